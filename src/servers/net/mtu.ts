/**
 * The MTU of the interface holding a local address (Linux: /sys/class/net/NAME/mtu), for servers whose
 * packet size should follow the link. Looked up again after a few seconds: an operator may switch a
 * bench port to jumbo frames while pxedeck runs.
 */
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';

const FRESH_MS = 5000;
const known = new Map<string, { readonly mtu: number | undefined; readonly at: number }>();

function lookUp(address: string): number | undefined {
  const bare = address.split('%')[0]!.toLowerCase();
  for (const [name, entries] of Object.entries(networkInterfaces())) {
    if (!entries?.some((entry) => entry.address.toLowerCase() === bare)) continue;
    try {
      const mtu = Number(readFileSync(`/sys/class/net/${name}/mtu`, 'utf8').trim());
      return Number.isInteger(mtu) && mtu > 0 ? mtu : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** undefined when no interface holds `address` (a wildcard bind) or the MTU cannot be read. */
export function mtuOfAddress(address: string, now = Date.now()): number | undefined {
  const cached = known.get(address);
  if (cached && now - cached.at < FRESH_MS) return cached.mtu;
  const mtu = lookUp(address);
  known.set(address, { mtu, at: now });
  return mtu;
}
