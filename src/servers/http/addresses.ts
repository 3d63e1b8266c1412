/** Address spellings the HTTP side needs: client IPs without the v4-mapped prefix, URL hosts, loopback. */
import { isIP } from 'node:net';

/** `::ffff:10.0.0.5` (a v4 client on a dual-stack socket) → `10.0.0.5`; undefined → ''. */
export function normalizeIp(address: string | undefined): string {
  if (!address) return '';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1]! : address;
}

/** `host:port` for a URL authority: IPv6 literals bracketed, a zone id percent-encoded (RFC 6874). */
export function urlAuthority(address: string, port: number): string {
  const host = isIP(address.split('%')[0]!) === 6 ? `[${address.replace('%', '%25')}]` : address;
  return port === 80 ? host : `${host}:${port}`;
}

/** `10.0.0.1:8080`, `[fd77::1]:8080`: an address with its port, for logs and events. */
export function hostPort(address: string, port: number): string {
  return isIP(address.split('%')[0]!) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

export function isLoopback(address: string): boolean {
  const bare = normalizeIp(address).split('%')[0]!.toLowerCase();
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1' || /^(0{1,4}:){7}0{0,3}1$/.test(bare);
  return bare === 'localhost';
}

// A Host header we would echo into a script iPXE runs: a DNS name, an IPv4 literal or a bracketed IPv6
// literal, then an optional port. Anything else (spaces, `${`, quotes) is not trusted into the script.
const HOST_HEADER = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*|\[[0-9a-f:.]+(?:%25[a-z0-9._~-]+)?\])(?::\d{1,5})?$/i;

export function isSafeHostHeader(host: string): boolean {
  if (host.length > 300 || !HOST_HEADER.test(host)) return false;
  const bracketed = /^\[([^\]%]+)/.exec(host);
  return bracketed ? isIP(bracketed[1]!) === 6 : true;
}
