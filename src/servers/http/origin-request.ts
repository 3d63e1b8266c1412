/**
 * Requests to upstream origins. Redirects are followed here, not by fetch, so that each hop is checked:
 * at most MAX_REDIRECTS, to http or https only, never from https down to http, and never from an origin
 * elsewhere onto this machine (loopback, link-local, unspecified: the control API, a cloud's metadata
 * service): pxedeck runs as root and serves what it fetches to the boot network.
 */
import { lookup } from 'node:dns/promises';
import ipaddr, { type IPv6 } from '../../protocol/ipaddr.js';

export const MAX_REDIRECTS = 5;

export type OriginAnswer =
  | { readonly kind: 'response'; readonly response: Response; readonly controller: AbortController; readonly release: () => void }
  | { readonly kind: 'error'; readonly message: string };

const LOCAL_RANGES = new Set(['loopback', 'linkLocal', 'unspecified']);

/** Whether `host` (a URL hostname: a name, an IPv4 literal or a bracketed IPv6 literal) names this machine. */
function isLocalLiteral(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (bare === 'localhost' || bare.endsWith('.localhost')) return true;
  if (!ipaddr.isValid(bare)) return false;
  let address = ipaddr.parse(bare);
  if (address.kind() === 'ipv6' && (address as IPv6).isIPv4MappedAddress()) address = (address as IPv6).toIPv4Address();
  return LOCAL_RANGES.has(address.range());
}

/**
 * Why a redirect from `from` to `to` is not followed, or undefined when it is. `resolved`: the addresses
 * `to`'s host name resolves to (empty for an address literal).
 */
export function redirectProblem(from: URL, to: URL, resolved: readonly string[]): string | undefined {
  if (to.protocol !== 'http:' && to.protocol !== 'https:') return `redirect to ${to.href} refused: http and https only`;
  if (from.protocol === 'https:' && to.protocol === 'http:') return `redirect to ${to.href} refused: from https down to http`;
  const fromLocal = isLocalLiteral(from.hostname);
  if (!fromLocal && (isLocalLiteral(to.hostname) || resolved.some(isLocalLiteral))) {
    return `redirect to ${to.href} refused: it points at this machine, the origin does not`;
  }
  return undefined;
}

async function addressesOf(url: URL): Promise<string[]> {
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || ipaddr.isValid(host)) return [];
  // A name that does not resolve cannot be fetched either; fetch says so in its own words.
  return (await lookup(host, { all: true }).catch(() => [])).map((entry) => entry.address);
}

export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}

/** Origin requests, each abortable by close() until its `release()`. */
export class OriginClient {
  readonly #aborts = new Set<AbortController>();

  /**
   * GET `url` with `headers`, following redirects by the rules above. `timeoutMs` bounds the wait for the
   * final answer's headers (the body has its own stall timer, see UpstreamCache).
   */
  async request(url: string, headers: Record<string, string>, timeoutMs?: number): Promise<OriginAnswer> {
    const controller = new AbortController();
    this.#aborts.add(controller);
    const release = (): void => void this.#aborts.delete(controller);
    const timer = timeoutMs !== undefined ? setTimeout(() => controller.abort(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs) : undefined;
    let current = new URL(url);
    try {
      for (let hop = 0; ; hop++) {
        // identity: a compressed body would make Content-Length lie about what lands on disk.
        const response = await fetch(current, {
          signal: controller.signal,
          redirect: 'manual',
          headers: { 'accept-encoding': 'identity', 'user-agent': 'pxedeck', ...headers },
        });
        const location = response.status >= 300 && response.status < 400 && response.status !== 304 ? response.headers.get('location') : null;
        if (location === null) return { kind: 'response', response, controller, release };
        await response.body?.cancel().catch(() => undefined);
        if (hop >= MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects`);
        const next = new URL(location, current);
        const problem = redirectProblem(current, next, await addressesOf(next));
        if (problem) throw new Error(problem);
        current = next;
      }
    } catch (error) {
      release();
      controller.abort();
      return { kind: 'error', message: `cannot reach ${url}: ${describeError(error)}` };
    } finally {
      clearTimeout(timer);
    }
  }

  abortAll(reason: Error): void {
    for (const controller of this.#aborts) controller.abort(reason);
  }
}
