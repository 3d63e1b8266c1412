/**
 * Full-mode DHCPv6 leases persisted in the data dir, beside the DHCPv4 ones and written the same way
 * (see record-file.ts): a burst of Replies costs one asynchronous write, flushed on close.
 */
import type { Lease6, Lease6Store } from '../servers/dhcp6/lease-pool6.js';
import { openRecordFile, type RecordFile } from './record-file.js';

export type PersistentLease6Store = Lease6Store & RecordFile<Lease6>;

const isLease6 = (value: unknown): value is Lease6 => {
  const lease = value as Partial<Lease6> | null;
  return (
    typeof lease === 'object' &&
    lease !== null &&
    typeof lease.duid === 'string' &&
    /^[0-9a-f]+$/.test(lease.duid) &&
    Number.isInteger(lease.iaid) &&
    typeof lease.ip === 'string' &&
    typeof lease.expiresAt === 'number'
  );
};

export function openLease6File(dataDir: string, coalesceMs?: number): PersistentLease6Store {
  return openRecordFile(dataDir, 'leases6', 'leases', isLease6, coalesceMs);
}
