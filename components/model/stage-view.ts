/**
 * What the console says about a machine's stage once pxedeck's part is over. After the boot program hands the
 * machine to its kernel nothing more can be seen from here unless the system reports (an installer's syslog
 * lines or preseed fetch, its "done"): the stage then reads "handed off", with the time since, instead of
 * standing at "kernel" or "booted" as if the boot were still under way.
 */
import type { ClientRecord } from '../../src/state/client-record.js';
import { formatAgo, formatElapsed } from './format.js';

/** Kernel and initrds downloaded, then quiet this long, with no beacon (PXELINUX direct, external scripts): handed off. */
export const HANDOFF_QUIET_MS = 5_000;

export const stageLabels: Record<ClientRecord['stage'], string> = {
  dhcp: 'DHCP',
  nbp: 'NBP',
  shim: 'shim',
  grub: 'GRUB',
  pxelinux: 'PXELINUX',
  ipxe: 'iPXE',
  script: 'script',
  kernel: 'kernel',
  initrd: 'initrd',
  booted: 'booted',
  installer: 'installer',
  installed: 'installed',
};

/**
 * When the machine was handed to its kernel, if that is the last thing known of it: the "booted" beacon, or
 * (no beacon on this path) the end of the last kernel/initrd download followed by silence.
 */
export function handedOffAt(record: ClientRecord, now: number): number | undefined {
  if (record.stage === 'booted') return record.path[record.path.length - 1]!.at;
  if (record.stage !== 'kernel' && record.stage !== 'initrd') return undefined;
  const transfer = record.transfer;
  if (!transfer?.done || now - record.lastSeen < HANDOFF_QUIET_MS) return undefined;
  const last = record.timeline.at(-1);
  // A failed download is a failure, not a handoff.
  return last?.kind === 'transfer.done' || last?.kind === 'http.request' ? record.lastSeen : undefined;
}

/** The STAGE cell: "handoff 3m" when handed off, else the stage's label. */
export function stageCell(record: ClientRecord, now: number): string {
  const at = handedOffAt(record, now);
  return at === undefined ? stageLabels[record.stage] : `handoff ${formatAgo(now - at)}`;
}

/** For the detail pane and the report: "handed off 3m ago" or the stage's label. */
export function stageSentence(record: ClientRecord, now: number): string {
  const at = handedOffAt(record, now);
  return at === undefined ? stageLabels[record.stage] : `handed off ${formatElapsed(now - at)} ago`;
}
