/**
 * NIC vendor by MAC prefix, from the IEEE registries (MA-L, MA-M, MA-S) as shipped by the `oui-data`
 * package, which tracks the IEEE lists. Loaded on first use (≈80 ms, once); only the organisation names
 * are kept. Locally administered MACs are not in any registry: a few well-known ones are named.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Mac } from '../../src/protocol/mac.js';

let table: Map<string, string> | undefined;

/** Prefixes that are conventions rather than registrations. */
const localPrefixes = [
  ['525400', 'QEMU/KVM'],
  ['0242', 'Docker'],
  ['fe5400', 'QEMU/KVM'],
] as const;

/** "Intel Corporate" from "Intel Corporate\nLot 8, Jalan…": the first line, tidied for a narrow column. */
export function shortVendorName(full: string): string {
  const first = full.split('\n')[0]!.trim();
  return first
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[,.]?\s+(co\.?,?\s*ltd\.?|corporation|corp\.?|inc\.?|incorporated|limited|ltd\.?|gmbh|llc|s\.?a\.?|ag|b\.?v\.?|oy|ab|pty|plc|co\.)\s*$/i, '')
    .replace(/[,.]?\s+(co\.?,?\s*ltd\.?|corporation|corp\.?|inc\.?|limited|ltd\.?|technologies|technology)\s*$/i, '')
    .replace(/\s+/g, ' ')
    .trim();
}

function load(): Map<string, string> {
  const require = createRequire(import.meta.url);
  const raw = JSON.parse(readFileSync(require.resolve('oui-data'), 'utf8')) as Record<string, string>;
  const names = new Map<string, string>();
  // One vendor holds hundreds of prefixes: share one string per name.
  const interned = new Map<string, string>();
  for (const [prefix, organisation] of Object.entries(raw)) {
    const name = shortVendorName(organisation);
    if (!interned.has(name)) interned.set(name, name);
    names.set(prefix.toLowerCase(), interned.get(name)!);
  }
  return names;
}

/** Loads the table now (the console calls this before its first frame, so no frame pays for it). */
export function preloadVendors(): void {
  table ??= load();
}

/** The registered organisation for this MAC, "local: QEMU/KVM" style for conventions, "" when unknown. */
export function vendorOf(mac: Mac): string {
  const hex = mac.replace(/:/g, '');
  table ??= load();
  const registered = table.get(hex.slice(0, 9)) ?? table.get(hex.slice(0, 7)) ?? table.get(hex.slice(0, 6));
  if (registered) return registered;
  for (const [prefix, name] of localPrefixes) if (hex.startsWith(prefix)) return name;
  // Second-lowest bit of the first octet: locally administered (VMs, containers, randomised MACs).
  return (Number.parseInt(hex.slice(0, 2), 16) & 0x02) !== 0 ? 'local' : '';
}
