/**
 * NIC vendor by MAC prefix, from the IEEE registries (MA-L, MA-M, MA-S) as shipped by the `oui-data`
 * package, which tracks the IEEE lists. Loaded on first use, once; only the organisation names are kept.
 * Locally administered MACs are not in any registry: a few well-known ones are named.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Mac } from '../../src/protocol/mac.js';

/**
 * The registries as sorted numeric prefixes (24-bit MA-L, 28-bit MA-M, 36-bit MA-S) beside the index of
 * their name, and the names as one string: a handful of heap objects instead of ~80,000 strings and a
 * 54,000-entry Map, which every full collection of the console would mark (4.6 MiB live, +6 ms a
 * collection: docs/performance.md, "DHCP with the console").
 */
interface VendorTable {
  readonly registries: readonly Registry[];
  readonly names: string;
  /** Where each name starts in `names`; one more entry than there are names. */
  readonly nameStarts: Uint32Array;
}

interface Registry {
  /** Hex digits of the prefix: 9 (MA-S), 7 (MA-M), 6 (MA-L), most specific first. */
  readonly digits: number;
  readonly prefixes: Float64Array;
  readonly nameIndex: Uint32Array;
}

let table: VendorTable | undefined;

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

function load(): VendorTable {
  const require = createRequire(import.meta.url);
  const raw = JSON.parse(readFileSync(require.resolve('oui-data'), 'utf8')) as Record<string, string>;
  // One vendor holds hundreds of prefixes: one name each, shortened once.
  const nameIndexOf = new Map<string, number>();
  const shortened = new Map<string, number>();
  const nameList: string[] = [];
  const byDigits = new Map<number, Array<readonly [prefix: number, name: number]>>();
  for (const [prefix, organisation] of Object.entries(raw)) {
    let index = shortened.get(organisation);
    if (index === undefined) {
      const name = shortVendorName(organisation);
      index = nameIndexOf.get(name);
      if (index === undefined) {
        index = nameList.length;
        nameList.push(name);
        nameIndexOf.set(name, index);
      }
      shortened.set(organisation, index);
    }
    const entries = byDigits.get(prefix.length) ?? [];
    entries.push([Number.parseInt(prefix, 16), index]);
    byDigits.set(prefix.length, entries);
  }
  const registries = [...byDigits]
    .sort(([a], [b]) => b - a)
    .map(([digits, entries]) => {
      entries.sort((a, b) => a[0] - b[0]);
      return { digits, prefixes: Float64Array.from(entries, ([prefix]) => prefix), nameIndex: Uint32Array.from(entries, ([, name]) => name) };
    });
  const nameStarts = new Uint32Array(nameList.length + 1);
  for (let i = 0; i < nameList.length; i += 1) nameStarts[i + 1] = nameStarts[i]! + nameList[i]!.length;
  return { registries, names: nameList.join(''), nameStarts };
}

function registeredName(vendors: VendorTable, hex: string): string | undefined {
  for (const registry of vendors.registries) {
    const prefix = Number.parseInt(hex.slice(0, registry.digits), 16);
    let low = 0;
    let high = registry.prefixes.length - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const candidate = registry.prefixes[middle]!;
      if (candidate < prefix) low = middle + 1;
      else if (candidate > prefix) high = middle - 1;
      else {
        const index = registry.nameIndex[middle]!;
        return vendors.names.slice(vendors.nameStarts[index], vendors.nameStarts[index + 1]);
      }
    }
  }
  return undefined;
}

/** Loads the table now (the console calls this before its first frame, so no frame pays for it). */
export function preloadVendors(): void {
  table ??= load();
}

/** The registered organisation for this MAC, "local: QEMU/KVM" style for conventions, "" when unknown. */
export function vendorOf(mac: Mac): string {
  const hex = mac.replace(/:/g, '');
  table ??= load();
  const registered = registeredName(table, hex);
  if (registered) return registered;
  for (const [prefix, name] of localPrefixes) if (hex.startsWith(prefix)) return name;
  // Second-lowest bit of the first octet: locally administered (VMs, containers, randomised MACs).
  return (Number.parseInt(hex.slice(0, 2), 16) & 0x02) !== 0 ? 'local' : '';
}
