import { networkInterfaces } from 'node:os';

/**
 * The Host header values this node answers. A browser page on `evil.example` whose name an attacker
 * re-points at 127.0.0.1 (DNS rebinding) reaches a loopback server as same-origin, with `Host: evil.example`:
 * refusing Hosts that are not ours is what stops it.
 *
 * `any` until configured: with the `allowedHosts` option the list is fixed; without it, `listen()` fills it
 * with the bound address (every local address for a wildcard bind) and `localhost` names for loopback. A
 * server mounted into someone else's HTTP server, with no `allowedHosts`, accepts any Host.
 */
export class HostAllowlist {
  /** `fixed`: given by the `allowedHosts` option, so `listen()` does not change it. */
  private state: { kind: 'any'; fixed: boolean } | { kind: 'listed'; hosts: Set<string>; fixed: boolean };

  constructor(configured: readonly string[] | '*' | undefined) {
    this.state =
      configured === undefined || configured === '*'
        ? { kind: 'any', fixed: configured === '*' }
        : { kind: 'listed', hosts: new Set(configured.map(normalise)), fixed: true };
  }

  /** Whether a request with this Host header (`name` or `name:port`) is for us. */
  allows(host: string | undefined | null): boolean {
    if (this.state.kind === 'any') return true;
    if (host === undefined || host === null) return false;
    const wanted = normalise(host);
    if (this.state.hosts.has(wanted)) return true;
    // A loopback name allowed at one port is allowed at any (a dev server's proxy on :5173 forwarding to
    // :8080): a rebinding page always sends its own domain as Host, never `localhost`.
    const name = nameOf(wanted);
    if (!LOOPBACK_NAMES.has(name)) return false;
    for (const allowed of this.state.hosts) if (nameOf(allowed) === name) return true;
    return false;
  }

  /**
   * Adds the names of an address this node listens on (unless `allowedHosts` was given): the address
   * itself, every interface address for a wildcard bind, and `localhost` forms for loopback.
   */
  addListening(address: string, port: number, extra: readonly string[] = []): void {
    if (this.state.fixed) return;
    if (this.state.kind === 'any') this.state = { kind: 'listed', hosts: new Set(), fixed: false };
    for (const host of [...listeningHosts(address, port), ...extra]) this.state.hosts.add(normalise(host));
  }
}

/**
 * The Host values that name a server listening on `address:port`: the address (every local address for a
 * wildcard bind) and, for loopback, `localhost`, `127.0.0.1` and `[::1]`. For servers that listen on their
 * own (as the CLI does) and set `allowedHosts` from it.
 */
export function listeningHosts(address: string, port: number): string[] {
  const wildcard = address === '0.0.0.0' || address === '::' || address === '';
  const addresses = wildcard ? localAddresses() : [address];
  const names = addresses.flatMap((a) => (isLoopback(a) ? [a, 'localhost', '127.0.0.1', '::1'] : [a]));
  const hosts = new Set<string>();
  for (const name of names) {
    hosts.add(normalise(withPort(name, port)));
    // Browsers leave the port out of Host when it is the scheme's default.
    if (port === 80 || port === 443) hosts.add(normalise(name.includes(':') ? `[${name}]` : name));
  }
  return [...hosts];
}

function localAddresses(): string[] {
  const out = ['127.0.0.1', '::1'];
  for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) out.push(i.address);
  return out;
}

function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.') || address === 'localhost';
}

function withPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

/** The host name of a Host value, without its port (`[::1]:80` → `[::1]`). */
function nameOf(host: string): string {
  const match = /^(\[[^\]]*\]|[^:]*)(:\d+)?$/.exec(host);
  return match?.[1] ?? host;
}

function normalise(host: string): string {
  return host.trim().toLowerCase();
}
