/**
 * Full-mode DHCPv6 leases in the data dir, beside the DHCPv4 ones and written the same way (leases6.json
 * plus leases6.journal, group commit: see lease-journal.ts), so a Reply goes out only once its lease is on disk.
 */
import { keyOf, type Lease6, type Lease6Store } from '../servers/dhcp6/lease-pool6.js';
import { openLeaseJournal, type LeaseJournal, type LeaseJournalOptions } from './lease-journal.js';

export type PersistentLease6Store = Lease6Store & LeaseJournal<Lease6>;

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

export function openLease6File(dataDir: string, options: Pick<LeaseJournalOptions<Lease6>, 'onError' | 'onRecovered'> = {}): PersistentLease6Store {
  return openLeaseJournal<Lease6>({ ...options, dataDir, name: 'leases6', key: 'leases', isRecord: isLease6, keyOf: (lease) => keyOf(lease.duid, lease.iaid) });
}
