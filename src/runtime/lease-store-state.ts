/**
 * A lease file as the operator sees it: a service of its own in the console's header ("LEASES",
 * "LEASES6"), red with the reason while writes fail (no ACK or Reply goes out until the disk takes them
 * again), green once they succeed, with a notice for lines of the files that could not be read.
 */
import type { Emit, PxedeckEvent } from '../servers/events.js';
import type { LeaseJournal, LeaseJournalOptions } from '../state/lease-journal.js';

export type LeaseFileName = 'leases' | 'leases6';

export function leaseStoreEvent(kind: 'server.listening' | 'server.error', server: LeaseFileName, path: string, message?: string): PxedeckEvent {
  return { kind, time: Date.now(), source: 'system', server, address: path, ...(message && { message }) };
}

type Watch = Pick<LeaseJournalOptions<unknown>, 'onError' | 'onRecovered'>;

/** Opens a lease file with its failures and recoveries reported as events. */
export function openWatchedLeaseFile<S extends LeaseJournal<unknown>>(
  name: LeaseFileName,
  dataDir: string,
  open: (dataDir: string, watch: Watch) => S,
  emit: Emit,
  notice: (level: 'info' | 'warning', message: string) => void,
): S {
  const store: S = open(dataDir, {
    onError: (error, heldBack) =>
      emit(
        leaseStoreEvent(
          'server.error',
          name,
          store.path,
          `writing ${name} failed (${error.message}); ${heldBack} answer${heldBack === 1 ? '' : 's'} held back, retrying: ` +
            `no machine gets an address until leases can be saved (free disk space in ${dataDir})`,
        ),
      ),
    onRecovered: () => {
      emit(leaseStoreEvent('server.listening', name, store.path));
      notice('info', `${name} are being saved again (${store.path})`);
    },
  });
  for (const problem of store.skipped) notice('warning', `${name} file: ${problem}: skipped`);
  return store;
}
