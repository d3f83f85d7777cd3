import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SIGNATURE_HEADER, verifyWebhookSignature, type WebhookBody } from '../../src/index.js';

/** One webhook request, as the app's endpoint saw it. */
export interface ReceivedWebhook {
  body: WebhookBody;
  raw: string;
  signature: string | undefined;
  /** The signature verified with the shared secret. */
  verified: boolean;
  /** Status the receiver answered (0 when it never answered). */
  status: number;
  /** When it arrived, ms since the epoch. */
  at: number;
}

/** What to do with a request: answer a status, or `hang` (never answer, to exercise timeouts). */
export type WebhookReply = number | 'hang';

/** The app's webhook endpoint: verifies signatures and records every request. */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  respond: (body: WebhookBody, attempt: number) => WebhookReply = () => 200;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    readonly secret: string,
  ) {
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString();
        const signature = req.headers[SIGNATURE_HEADER.toLowerCase()] as string | undefined;
        const body = JSON.parse(raw) as WebhookBody;
        const attempt = this.received.filter((r) => r.body.id === body.id).length + 1;
        const reply = this.respond(body, attempt);
        const verified = verifyWebhookSignature({ body: raw, header: signature, secret: this.secret });
        this.received.push({
          body,
          raw,
          signature,
          verified,
          status: reply === 'hang' ? 0 : reply,
          at: Date.now(),
        });
        if (reply !== 'hang') res.writeHead(reply).end();
      });
    });
  }

  static async start(secret = 's'.repeat(40), port = 0): Promise<WebhookReceiver> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    const actual = (server.address() as AddressInfo).port;
    return new WebhookReceiver(server, `http://127.0.0.1:${actual}/natter-push`, secret);
  }

  /** Requests answered 2xx: what reached the devices. */
  get accepted(): ReceivedWebhook[] {
    return this.received.filter((r) => r.status >= 200 && r.status < 300);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
