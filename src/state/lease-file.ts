/**
 * Full-mode leases persisted in the data dir. Writes are coalesced (a burst of ACKs costs one write) and
 * flushed on close, so a busy segment does not turn into a disk-bound server.
 */
import type { Lease, LeaseStore } from '../servers/dhcp4/lease-pool.js';
import { parseMac } from '../protocol/mac.js';
import { openConfFile } from './conf-file.js';

export interface PersistentLeaseStore extends LeaseStore {
  readonly path: string;
  flush(): void;
}

export function openLeaseFile(dataDir: string, coalesceMs = 50): PersistentLeaseStore {
  const conf = openConfFile<{ leases: Lease[] }>(dataDir, 'leases', { leases: [] });
  let pending: readonly Lease[] | null = null;
  let timer: NodeJS.Timeout | null = null;

  function flush(): void {
    if (timer) clearTimeout(timer);
    timer = null;
    if (pending) conf.set('leases', [...pending]);
    pending = null;
  }

  return {
    path: conf.path,
    load() {
      const stored = conf.get('leases');
      if (!Array.isArray(stored)) return [];
      // A hand-edited entry that is not a lease is skipped rather than trusted.
      return stored.filter(
        (lease): lease is Lease =>
          typeof lease === 'object' && lease !== null && parseMac(String(lease.mac)) !== null && typeof lease.ip === 'string' && typeof lease.expiresAt === 'number',
      );
    },
    save(leases) {
      pending = leases;
      timer ??= setTimeout(flush, coalesceMs);
    },
    flush,
  };
}
