/**
 * The table's rows from one registry snapshot: ordered (most recent activity first by default), filtered
 * by what the operator typed, and counted for the header. Only the visible window is formatted into
 * cells (see columns.ts), so 500 machines cost a sort and a pass per frame.
 */
import type { BootTarget } from '../../src/boot/boot-target.js';
import type { Mac } from '../../src/protocol/mac.js';
import type { ClientRecord } from '../../src/state/client-record.js';
import type { RegistrySnapshot } from '../../src/state/registry.js';
import { clientStatus, firmwareNow, type ClientStatus, type StatusBadge } from './client-status.js';
import { vendorOf } from './oui-vendor.js';

export const sortOrders = ['recent', 'first-seen', 'mac'] as const;
export type SortOrder = (typeof sortOrders)[number];

/** What the rows need from the operator's stores. */
export interface TargetSource {
  target(mac: Mac): BootTarget;
  describe(mac: Mac): string;
}

export interface ClientRow {
  readonly mac: Mac;
  readonly record: ClientRecord;
  readonly vendor: string;
  readonly firmware: string;
  readonly target: string;
  readonly status: ClientStatus;
}

export interface ClientCounts {
  readonly seen: number;
  readonly booting: number;
  readonly booted: number;
  readonly failed: number;
  readonly looping: number;
  readonly held: number;
  readonly stalled: number;
  readonly waiting: number;
}

const vendors = new Map<Mac, string>();
/** Beyond the registry's own bound, so a steady table never misses; a flood of made-up MACs only empties it. */
const VENDOR_CACHE_LIMIT = 4096;

function vendorCached(mac: Mac): string {
  let vendor = vendors.get(mac);
  if (vendor === undefined) {
    vendor = vendorOf(mac);
    if (vendors.size >= VENDOR_CACHE_LIMIT) vendors.clear();
    vendors.set(mac, vendor);
  }
  return vendor;
}

const compare: Record<SortOrder, (a: ClientRecord, b: ClientRecord) => number> = {
  recent: (a, b) => b.lastSeen - a.lastSeen || (a.mac < b.mac ? -1 : 1),
  'first-seen': (a, b) => a.firstSeen - b.firstSeen || (a.mac < b.mac ? -1 : 1),
  mac: (a, b) => (a.mac < b.mac ? -1 : a.mac > b.mac ? 1 : 0),
};

export function buildRows(snapshot: RegistrySnapshot, targets: TargetSource, options: { readonly now: number; readonly sort: SortOrder; readonly filter: string }): ClientRow[] {
  const needle = options.filter.trim().toLowerCase();
  const records = [...snapshot.clients.values()].sort(compare[options.sort]);
  const rows: ClientRow[] = [];
  for (const record of records) {
    const target = targets.describe(record.mac);
    const row: ClientRow = {
      mac: record.mac,
      record,
      vendor: vendorCached(record.mac),
      firmware: firmwareNow(record),
      target,
      status: clientStatus(record, targets.target(record.mac), options.now, false),
    };
    if (needle && !matches(row, needle)) continue;
    rows.push(row);
  }
  return rows;
}

function matches(row: ClientRow, needle: string): boolean {
  return [row.mac, row.mac.replace(/:/g, ''), row.vendor, row.record.ip ?? '', row.firmware, row.target, row.record.stage, row.status.badge]
    .some((field) => field.toLowerCase().includes(needle));
}

const badgeCount: Partial<Record<StatusBadge, keyof ClientCounts>> = {
  booting: 'booting',
  done: 'booted',
  failed: 'failed',
  LOOP: 'looping',
  held: 'held',
  stalled: 'stalled',
  waiting: 'waiting',
};

export function countRows(rows: readonly ClientRow[]): ClientCounts {
  const counts = { seen: rows.length, booting: 0, booted: 0, failed: 0, looping: 0, held: 0, stalled: 0, waiting: 0 };
  for (const row of rows) {
    const key = badgeCount[row.status.badge];
    if (key) counts[key] += 1;
  }
  return counts;
}
