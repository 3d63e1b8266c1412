/** Full-mode DHCPv4 leases persisted in the data dir (see record-file.ts for how writes are kept cheap). */
import { parseMac } from '../protocol/mac.js';
import type { Lease, LeaseStore } from '../servers/dhcp4/lease-pool.js';
import { openRecordFile, type RecordFile } from './record-file.js';

export type PersistentLeaseStore = LeaseStore & RecordFile<Lease>;

const isLease = (value: unknown): value is Lease => {
  const lease = value as Partial<Lease> | null;
  return typeof lease === 'object' && lease !== null && parseMac(String(lease.mac)) !== null && typeof lease.ip === 'string' && typeof lease.expiresAt === 'number';
};

export function openLeaseFile(dataDir: string, coalesceMs?: number): PersistentLeaseStore {
  return openRecordFile(dataDir, 'leases', 'leases', isLease, coalesceMs);
}
