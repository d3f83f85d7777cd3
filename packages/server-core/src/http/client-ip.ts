/**
 * The client address of a Request built by the node adapter. A fetch `Request` has no place for it,
 * and the server assembly may wrap the API's `fetch` in its own handler, so the address travels with
 * the Request object itself (a WeakMap: nothing to clean up, nothing a client can forge via headers).
 */
const addresses = new WeakMap<Request, string>();

/** Records the address the transport saw for this request. */
export function setClientIp(request: Request, ip: string | undefined): void {
  if (ip) addresses.set(request, ip);
}

/** The address recorded for this request, if any. */
export function clientIpOf(request: Request): string | undefined {
  return addresses.get(request);
}
