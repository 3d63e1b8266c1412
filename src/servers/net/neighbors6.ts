/**
 * IPv6 address → MAC from the kernel's neighbour cache. Linux exposes it only over netlink (there is no
 * /proc file as for ARP), so this reads `ip -6 neigh show` output; pure parsing is separate for tests.
 */
import { execFileSync } from 'node:child_process';
import { parseMac, type Mac } from '../../protocol/mac.js';

/** Lines like `fe80::5054:ff:fe77:601 dev tap0 lladdr 52:54:00:77:06:01 REACHABLE`. */
export function parseIpNeighbors(text: string): Map<string, Mac> {
  const table = new Map<string, Mac>();
  for (const line of text.split('\n')) {
    const match = /^(\S+)\s.*\blladdr\s+(\S+)(?:\s+router)?\s+(\S+)\s*$/.exec(line.trim());
    if (!match || match[3] === 'FAILED' || match[3] === 'INCOMPLETE') continue;
    const mac = parseMac(match[2]!);
    if (mac) table.set(match[1]!.toLowerCase(), mac);
  }
  return table;
}

export function neighborMac6(address: string, device?: string, read?: () => string): Mac | undefined {
  const plain = address.replace(/%.*$/, '').toLowerCase();
  try {
    const text = read
      ? read()
      : execFileSync('ip', ['-6', 'neigh', 'show', ...(device ? ['dev', device] : [])], { encoding: 'utf8', timeout: 1000, stdio: ['ignore', 'pipe', 'ignore'] });
    return parseIpNeighbors(text).get(plain);
  } catch {
    return undefined;
  }
}
