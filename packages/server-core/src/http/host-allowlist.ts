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
    return host !== undefined && host !== null && this.state.hosts.has(normalise(host));
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

function normalise(host: string): string {
  return host.trim().toLowerCase();
}
