/**
 * Full-mode DHCPv4 leases in the data dir: leases.json plus leases.journal, written by group commit (see
 * lease-journal.ts), so an ACK goes out only once its lease is on disk.
 */
import { parseMac } from '../protocol/mac.js';
import type { Lease, LeaseStore } from '../servers/dhcp4/lease-pool.js';
import { openLeaseJournal, type LeaseJournal, type LeaseJournalOptions } from './lease-journal.js';
import { readLeaseJournal } from './lease-journal-read.js';

export type PersistentLeaseStore = LeaseStore & LeaseJournal<Lease>;

const isLease = (value: unknown): value is Lease => {
  const lease = value as Partial<Lease> | null;
  return typeof lease === 'object' && lease !== null && parseMac(String(lease.mac)) !== null && typeof lease.ip === 'string' && typeof lease.expiresAt === 'number';
};

export type LeaseFileOptions = Pick<LeaseJournalOptions<Lease>, 'onError' | 'onRecovered' | 'compactLines' | 'retryMs' | 'batchIntervalMs'>;

const files = { name: 'leases', key: 'leases', isRecord: isLease, keyOf: (lease: Lease) => lease.mac };

export function openLeaseFile(dataDir: string, options: LeaseFileOptions = {}): PersistentLeaseStore {
  return openLeaseJournal<Lease>({ ...options, ...files, dataDir });
}

/** The leases on disk now, read without writing (beside a running pxedeck, or after it was killed). */
export function readLeaseFile(dataDir: string): Lease[] {
  return [...readLeaseJournal<Lease>({ ...files, dataDir }).records.values()];
}
