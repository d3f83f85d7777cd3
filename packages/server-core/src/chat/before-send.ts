import { ErrorCode, isWellFormedText, NatterError, utf8ByteLength } from '@natter/protocol';

/** What an app's pre-send hook sees of a message about to be stored. */
export interface BeforeSendContext {
  readonly userId: string;
  readonly channelId: string;
  readonly text: string;
  readonly mentions: readonly string[];
  readonly clientMsgId: string;
}

/**
 * The hook's verdict: store the message as is, refuse it (the sender gets `NATTER_MESSAGE_REJECTED` with
 * `message`, nothing is stored), or store another text instead (a masked word, a trimmed link).
 */
export type BeforeSendVerdict =
  | { action: 'allow' }
  | { action: 'reject'; message?: string }
  | { action: 'rewrite'; text: string };

/** An app's content filter (profanity, spam, links), run before every user's send is stored. */
export type BeforeSend = (context: BeforeSendContext) => BeforeSendVerdict | Promise<BeforeSendVerdict>;

/** Moderation options of a server. */
export interface ModerationOptions {
  /** Runs before every send of a user (not before the server API's posts as the app). */
  beforeSend?: BeforeSend;
  /**
   * How long the hook may take, ms. Past it, or when the hook throws, the send fails with
   * `NATTER_UNAVAILABLE` (retryable: the client's outbox tries again) and nothing is stored: a filter that
   * is down must not let everything through. @default 1000
   */
  beforeSendTimeoutMs?: number;
}

/**
 * Runs the hook with its deadline and applies its verdict: the text to store, or a thrown NatterError.
 * A rewrite is held to the same rules as a client's text (size, well-formed Unicode).
 */
export async function applyBeforeSend(
  hook: BeforeSend,
  context: BeforeSendContext,
  timeoutMs: number,
  maxMessageBytes: number,
): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  let verdict: BeforeSendVerdict | 'timeout';
  try {
    verdict = await Promise.race([Promise.resolve().then(() => hook(context)), deadline]);
  } catch {
    throw new NatterError(ErrorCode.UNAVAILABLE, 'message filter failed; try again', 1_000);
  } finally {
    clearTimeout(timer);
  }
  if (verdict === 'timeout') {
    throw new NatterError(ErrorCode.UNAVAILABLE, 'message filter timed out; try again', 1_000);
  }
  switch (verdict.action) {
    case 'allow':
      return context.text;
    case 'reject':
      throw new NatterError(ErrorCode.MESSAGE_REJECTED, verdict.message ?? 'message rejected');
    case 'rewrite': {
      const { text } = verdict;
      if (typeof text !== 'string' || text.length === 0 || !isWellFormedText(text)) {
        throw new NatterError(ErrorCode.INTERNAL, 'message filter returned an invalid text');
      }
      if (utf8ByteLength(text) > maxMessageBytes) {
        throw new NatterError(ErrorCode.MESSAGE_TOO_LARGE, `message text exceeds ${maxMessageBytes} bytes`);
      }
      return text;
    }
    default:
      throw new NatterError(ErrorCode.INTERNAL, 'message filter returned an unknown verdict');
  }
}
