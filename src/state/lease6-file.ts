/**
 * Full-mode DHCPv6 leases persisted in the data dir, beside the DHCPv4 ones and with the same coalesced
 * writes (see lease-file.ts): a burst of Replies costs one write, flushed on close.
 */
import type { Lease6, Lease6Store } from '../servers/dhcp6/lease-pool6.js';
import { openConfFile } from './conf-file.js';

export interface PersistentLease6Store extends Lease6Store {
  readonly path: string;
  flush(): void;
}

export function openLease6File(dataDir: string, coalesceMs = 50): PersistentLease6Store {
  const conf = openConfFile<{ leases: Lease6[] }>(dataDir, 'leases6', { leases: [] });
  let pending: readonly Lease6[] | null = null;
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
        (lease): lease is Lease6 =>
          typeof lease === 'object' &&
          lease !== null &&
          typeof lease.duid === 'string' &&
          /^[0-9a-f]+$/.test(lease.duid) &&
          Number.isInteger(lease.iaid) &&
          typeof lease.ip === 'string' &&
          typeof lease.expiresAt === 'number',
      );
    },
    save(leases) {
      pending = leases;
      timer ??= setTimeout(flush, coalesceMs);
    },
    flush,
  };
}
