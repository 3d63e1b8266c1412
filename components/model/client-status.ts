/**
 * What the console says about one machine beyond the registry's record: its status badge (waiting, held,
 * booting, stalled, LOOP, failed, done, ignored), the diagnosis when something is wrong, the firmware
 * now running, and the current download as a progress view. The timeline scan is memoised per record
 * object (records are immutable, replaced on every event), so a frame costs one map lookup per machine.
 */
import type { BootTarget } from '../../src/boot/boot-target.js';
import type { PxedeckEvent, TransferEvent } from '../../src/state/events.js';
import type { Verdict } from '../../src/state/diagnosis.js';
import type { ClientRecord } from '../../src/state/client-record.js';
import { isIpxeBinary, isPxelinuxBinary } from '../../src/state/stages.js';
import { formatBytes, formatDuration, formatElapsed } from './format.js';
import { handedOffAt } from './stage-view.js';

export const statusBadges = ['waiting', 'held', 'booting', 'stalled', 'LOOP', 'failed', 'done', 'ignored'] as const;
export type StatusBadge = (typeof statusBadges)[number];

/** Three completed boot-program downloads without a "booted" beacon between them, within this window: a loop. */
export const LOOP_DOWNLOADS = 3;
export const LOOP_WINDOW_MS = 10 * 60_000;
/** A download with no progress report for this long is stalled (servers report ~4 times a second). */
export const TRANSFER_STALL_MS = 15_000;
/** A machine quiet this long between two steps that normally follow in seconds is stalled. */
export const STEP_STALL_MS = 45_000;

export interface ClientStatus {
  readonly badge: StatusBadge;
  /** Why, in a sentence with the fix where there is one; absent when all is well. */
  readonly diagnosis?: string;
}

interface TimelineFacts {
  /** Firmware that started the boot (not iPXE), e.g. "BIOS PXE", "PXE UEFI x64". */
  readonly baseFirmware?: string;
  readonly loop?: { readonly downloads: number; readonly spanMs: number; readonly file: string };
  readonly failure?: string;
  /** The boot file the last DHCP reply named. */
  readonly offeredFile?: string;
}

const facts = new WeakMap<ClientRecord, TimelineFacts>();

function isBootProgram(file: string): boolean {
  return isIpxeBinary(file) || isPxelinuxBinary(file);
}

/** A missing file PXELINUX looks for on purpose (it walks several config names): not a failure. */
function isRoutineMiss(event: TransferEvent): boolean {
  return /(^|\/)pxelinux\.cfg\//.test(event.file) || /\.c32$/i.test(event.file);
}

function failureOf(event: PxedeckEvent): string | undefined {
  switch (event.kind) {
    case 'transfer.error':
      if (event.benign) return undefined;
      return `${event.source.toUpperCase()} ${event.file} failed after ${formatBytes(event.bytes)}${event.size ? ` of ${formatBytes(event.size)}` : ''}: ${event.error ?? 'error'}`;
    case 'transfer.not-found':
      if (isRoutineMiss(event)) return undefined;
      return `${event.file} is not in the boot directory; fix: put it there (iPXE and PXELINUX binaries: apt install ipxe pxelinux syslinux-common)`;
    case 'transfer.refused':
      return `${event.source.toUpperCase()} refused ${event.file}: ${event.error ?? 'refused'}`;
    case 'http.request':
      if (event.status < 400 || event.route === 'control' || event.route === 'beacon') return undefined;
      return `GET ${event.path} answered ${event.status}${event.reason ? `: ${event.reason}` : ''}`;
    default:
      return undefined;
  }
}

/** Events that mean the machine moved on (a later success clears an earlier failure). */
function isProgress(event: PxedeckEvent): boolean {
  return (
    event.kind === 'transfer.start' ||
    event.kind === 'transfer.progress' ||
    event.kind === 'transfer.done' ||
    event.kind === 'boot.beacon' ||
    (event.kind === 'http.request' && event.status < 400) ||
    event.kind === 'dhcp.received'
  );
}

function scan(record: ClientRecord): TimelineFacts {
  const known = facts.get(record);
  if (known) return known;
  let baseFirmware: string | undefined;
  let offeredFile: string | undefined;
  let failure: string | undefined;
  let failureSettled = false;
  const downloads: Array<{ at: number; file: string }> = [];
  let downloadsSettled = false;
  const timeline = record.timeline;
  // Newest first, stopping as soon as every question is answered: usually within one boot cycle.
  for (let index = timeline.length - 1; index >= 0 && !(failureSettled && downloadsSettled && offeredFile); index -= 1) {
    const event = timeline.at(index)!;
    if (!failureSettled) {
      const failed = failureOf(event);
      if (failed) {
        failure = failed;
        failureSettled = true;
      } else if (isProgress(event)) failureSettled = true;
    }
    if (!downloadsSettled) {
      if (event.kind === 'boot.beacon') downloadsSettled = true;
      else if (event.kind === 'transfer.done' && isBootProgram(event.file)) {
        if (downloads.length > 0 && downloads[0]!.at - event.time > LOOP_WINDOW_MS) downloadsSettled = true;
        else downloads.unshift({ at: event.time, file: event.file });
      }
    }
    if (event.kind === 'dhcp.sent' && event.bootFile) offeredFile ??= event.bootFile;
  }
  // The earliest firmware in the kept timeline started this boot; the scan above ran newest first.
  for (const event of timeline) {
    if (event.kind === 'dhcp.received' && event.client && !event.client.startsWith('iPXE') && event.client !== 'DHCP client') {
      baseFirmware = event.client;
      break;
    }
  }
  const result: TimelineFacts = {
    ...(baseFirmware && { baseFirmware }),
    ...(offeredFile && { offeredFile }),
    ...(failure && { failure }),
    ...(downloads.length >= LOOP_DOWNLOADS && {
      loop: { downloads: downloads.length, spanMs: downloads.at(-1)!.at - downloads[0]!.at, file: downloads.at(-1)!.file },
    }),
  };
  facts.set(record, result);
  return result;
}

/** "BIOS", "UEFI x64", "ARM64", "UEFI HTTP", "iPXE", "PXELINUX": what runs on the machine now. */
export function firmwareNow(record: ClientRecord): string {
  if (record.stage === 'pxelinux') return 'PXELINUX';
  if (record.stage === 'shim') return 'shim';
  if (record.stage === 'grub') return 'GRUB';
  if (record.firmware?.startsWith('iPXE')) return 'iPXE';
  return shortFirmware(record.firmware ?? scan(record).baseFirmware);
}

export function shortFirmware(firmware: string | undefined): string {
  if (!firmware) return '';
  if (firmware === 'BIOS PXE' || /x86 BIOS/.test(firmware)) return 'BIOS';
  if (firmware.startsWith('HTTP boot')) return /ARM64/.test(firmware) ? 'ARM64 HTTP' : 'UEFI HTTP';
  if (/ARM64/.test(firmware)) return 'ARM64';
  if (/ARM32/.test(firmware)) return 'ARM32';
  const uefi = /UEFI x(64|86)/.exec(firmware);
  if (uefi) return `UEFI x${uefi[1]}`;
  return firmware.replace(/^PXE /, '');
}

/** "BIOS PXE → iPXE" for the detail pane. */
export function firmwareChain(record: ClientRecord): string {
  const base = scan(record).baseFirmware;
  const now = record.firmware;
  if (base && now && base !== now) return `${base} → ${now}`;
  return now ?? base ?? 'unknown';
}

const stepHints: Partial<Record<ClientRecord['stage'], string>> = {
  nbp: 'the boot program downloaded but never asked again: wrong binary for this NIC? (try snponly.efi, or undionly.kpxe on BIOS)',
  pxelinux: 'PXELINUX loaded but went quiet: see the config it got (Enter)',
  shim: 'shim loaded but GRUB never came: is grubx64.efi (grub-efi-amd64-signed) installed?',
  grub: 'GRUB loaded but fetched no kernel: see its GRUB config (Enter, Tab); in proxy mode the site DHCP server must name pxedeck as next-server',
  ipxe: 'iPXE has its address but never fetched its script: is the HTTP port reachable from the machine?',
  script: "the script was served but nothing followed: see the script (Enter) and the machine's screen",
  kernel: 'no "booted" report after the kernel: the script stopped before boot',
  initrd: 'no "booted" report after the initrds: the script stopped before boot',
};

/**
 * The badge, and with `explain` the diagnosis. The table asks for badges only (500 machines a frame), so
 * the sentences are built only for the detail pane and the report.
 */
export function clientStatus(record: ClientRecord, target: BootTarget, now: number, explain = true): ClientStatus {
  const known = scan(record);
  const said = (badge: StatusBadge, diagnosis?: () => string): ClientStatus => (explain && diagnosis ? { badge, diagnosis: diagnosis() } : { badge });
  const quietMs = now - record.lastSeen;
  if (target.kind === 'ignore') return said('ignored', () => 'ignored by the operator: pxedeck does not answer this machine (c clears it)');
  if (record.stage === 'installed') return said('done', () => 'the installer reported it finished');
  if (record.stage === 'installer') {
    return said('booting', () => `the system pxedeck booted is running and reporting (syslog lines, its own requests); last heard ${formatElapsed(quietMs)} ago`);
  }
  const handoff = handedOffAt(record, now);
  if (handoff !== undefined) {
    return said('done', () =>
      `handed to its kernel ${formatElapsed(now - handoff)} ago; what runs now is not visible from here unless it reports ` +
      '(installers do with log_host= or inst.syslog=, a preseed or kickstart fetch, the done URL)');
  }
  // The registry's verdicts (src/state/diagnosis.ts) name cause and fix; the console's own checks below
  // cover what they do not (slow reboot loops, failed downloads, quiet machines).
  const verdicts = record.verdicts;
  const verdict = verdicts.length > 0 ? verdicts[verdicts.length - 1] : undefined;
  const loopVerdict = verdict && verdicts.find((candidate) => candidate.kind === 'loop');
  if (loopVerdict) return said('LOOP', () => verdictText(loopVerdict));
  const loop = known.loop;
  if (loop) {
    return said('LOOP', () => {
      const why = isIpxeBinary(loop.file)
        ? target.kind === 'local'
          ? 'its local disk does not boot, so it comes back to the network'
          : 'iPXE is being handed the iPXE binary again (chainload loop), or the machine reboots before the kernel runs'
        : 'the machine reboots before the kernel runs';
      return `${loop.file} downloaded ${loop.downloads} times in ${formatDuration(loop.spanMs)} without a "booted" report: ${why}`;
    });
  }
  const failure = known.failure;
  if (failure) return said('failed', () => failure);
  const transfer = record.transfer;
  if (verdict?.kind === 'tftp-stall' && transfer && !transfer.done) return said('stalled', () => verdictText(verdict));
  if (target.kind === 'hold') return said('held', () => 'held: it polls every few seconds and boots as soon as it is assigned or released');
  if (transfer && !transfer.done && quietMs > TRANSFER_STALL_MS) {
    return said('stalled', () => {
      const share = transfer.size ? ` at ${Math.floor((transfer.bytes / transfer.size) * 100)}%` : ` after ${formatBytes(transfer.bytes)}`;
      const hint = transfer.source === 'tftp' ? '; some firmware stalls at large block sizes: set a blksizeCap for it in clients.json' : '';
      return `${transfer.source.toUpperCase()} ${transfer.file} stopped${share} ${formatElapsed(quietMs)} ago${hint}`;
    });
  }
  const offered = known.offeredFile;
  if (record.stage === 'dhcp') {
    const ignored = record.lastIgnoredReason;
    if (ignored && !offered) return said('waiting', () => `not answered: ${ignored}`);
    if (quietMs > STEP_STALL_MS && offered) {
      return said('stalled', () => `offered ${offered} ${formatElapsed(quietMs)} ago but no download followed: check that TFTP/HTTP is reachable from the machine`);
    }
    return said('waiting', verdict && (() => verdictText(verdict)));
  }
  if (quietMs > STEP_STALL_MS) return said('stalled', () => `quiet for ${formatElapsed(quietMs)} at ${record.stage}; ${stepHints[record.stage] ?? ''}`);
  return said('booting', verdict && (() => verdictText(verdict)));
}

function verdictText(verdict: Verdict): string {
  return `${verdict.summary}: ${verdict.cause}; fix: ${verdict.fix}`;
}

export interface ProgressView {
  readonly file: string;
  readonly source: 'tftp' | 'http';
  readonly bytes: number;
  readonly size?: number;
  /** 0..1 when the size is known. */
  readonly fraction?: number;
  readonly rate?: number;
  readonly etaSeconds?: number;
  readonly done: boolean;
}

export function progressOf(record: ClientRecord): ProgressView | undefined {
  const transfer = record.transfer;
  if (!transfer) return undefined;
  const elapsed = (record.lastSeen - transfer.startedAt) / 1000;
  const rate = transfer.rate ?? (elapsed > 0 ? transfer.bytes / elapsed : undefined);
  const fraction = transfer.size ? Math.min(1, transfer.bytes / transfer.size) : undefined;
  const etaSeconds = transfer.size && rate && rate > 0 && !transfer.done ? (transfer.size - transfer.bytes) / rate : undefined;
  return {
    file: transfer.file,
    source: transfer.source,
    bytes: transfer.bytes,
    done: transfer.done,
    ...(transfer.size !== undefined && { size: transfer.size }),
    ...(fraction !== undefined && { fraction }),
    ...(rate !== undefined && { rate }),
    ...(etaSeconds !== undefined && { etaSeconds }),
  };
}
