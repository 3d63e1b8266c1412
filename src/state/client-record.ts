/**
 * One machine's record, and what each event tells of it: its firmware, its boot stage and cycle, the file it was
 * last given, its download. The registry (registry.ts) keeps the records, their bounds and who may see them.
 */
import type { Mac } from '../protocol/mac.js';
import type { PxedeckEvent } from '../servers/events.js';
import type { Verdict } from './diagnosis.js';
import { isBootProgramAgent, isIpxeBinary, stageForFile, stageIndex, type BootStage } from './stages.js';
import { Timeline } from './timeline.js';

export interface TransferProgress {
  readonly file: string;
  readonly source: 'tftp' | 'http';
  readonly bytes: number;
  readonly size?: number;
  readonly rate?: number;
  readonly startedAt: number;
  readonly done: boolean;
}

export interface StageStep {
  readonly stage: BootStage;
  readonly at: number;
}

export interface ClientRecord {
  readonly mac: Mac;
  readonly ip?: string;
  readonly firmware?: string;
  readonly firstSeen: number;
  readonly lastSeen: number;
  readonly stage: BootStage;
  /** The stages reached in the current boot cycle, with when. */
  readonly path: readonly StageStep[];
  /** Boot cycles started (DHCP from firmware after the machine had got further). */
  readonly cycles: number;
  readonly lastBootFile?: string;
  readonly lastIgnoredReason?: string;
  readonly transfer?: TransferProgress;
  readonly nbpDownloadedAt?: number;
  readonly nbpFile?: string;
  /** Diagnoses of the current boot cycle (a loop, a stall…), newest last. */
  readonly verdicts: readonly Verdict[];
  /** The machine's events, newest last (kept as JSON off the heap: each read decodes). */
  readonly timeline: Timeline;
  /** Syslog lines the machine sent, in their own ring so a chatty installer cannot push DHCP/TFTP history out. */
  readonly log: Timeline;
}

/** A record being built for one event; it becomes the stored, immutable record at the end of the fold. */
export type Draft = { -readonly [K in keyof ClientRecord]: ClientRecord[K] };

/** Shared by every record without a diagnosis (verdicts are replaced, never changed in place): one array less per machine. */
const NO_VERDICTS: readonly Verdict[] = Object.freeze([]);

/** The record of a machine first heard of at `time`. */
export function newRecord(mac: Mac, time: number, timelineLimit: number): Draft {
  // Every field the fold may set is here from the start (undefined until then): the record keeps one shape,
  // its fields inside the object, instead of growing a separate property store as a machine gets further.
  return {
    mac,
    ip: undefined,
    firmware: undefined,
    firstSeen: time,
    lastSeen: time,
    stage: 'dhcp',
    path: [{ stage: 'dhcp', at: time }],
    cycles: 1,
    lastBootFile: undefined,
    lastIgnoredReason: undefined,
    transfer: undefined,
    nbpDownloadedAt: undefined,
    nbpFile: undefined,
    verdicts: NO_VERDICTS,
    timeline: Timeline.empty(timelineLimit),
    log: Timeline.empty(timelineLimit),
  };
}

/**
 * `draft` made over as the record of a machine first heard of at `time`, allocating nothing where it can. Only
 * for a record nobody outside the registry has seen since it was made (registry.ts): its path and the steps
 * in it are then its own, so a one-step path is changed in place.
 */
export function renewRecord(draft: Draft, mac: Mac, time: number, timelineLimit: number): void {
  draft.mac = mac;
  draft.ip = undefined;
  draft.firmware = undefined;
  draft.firstSeen = time;
  draft.lastSeen = time;
  draft.stage = 'dhcp';
  const first = draft.path.length === 1 ? (draft.path[0] as { stage: BootStage; at: number }) : undefined;
  if (first) {
    first.stage = 'dhcp';
    first.at = time;
  } else draft.path = [{ stage: 'dhcp', at: time }];
  draft.cycles = 1;
  draft.lastBootFile = undefined;
  draft.lastIgnoredReason = undefined;
  draft.transfer = undefined;
  draft.nbpDownloadedAt = undefined;
  draft.nbpFile = undefined;
  draft.verdicts = NO_VERDICTS;
  draft.timeline = Timeline.empty(timelineLimit);
  draft.log = Timeline.empty(timelineLimit);
}

/** What `event` tells of its machine, written into the machine's draft (its timeline and address are the registry's). */
export function foldEvent(draft: Draft, event: PxedeckEvent): void {
  switch (event.kind) {
    case 'dhcp.received':
      if (event.client) draft.firmware = event.client;
      // A booted OS's DHCP client does not start a boot cycle.
      dhcpFrom(draft, event.time, event.client?.startsWith('iPXE') ?? false, event.messageType === 'DISCOVER' && event.client !== 'DHCP client');
      break;
    case 'dhcp.sent':
      if (event.bootFile) draft.lastBootFile = event.bootFile;
      break;
    case 'dhcp6.received':
      // `client` is the firmware kind here; Solicit plays DISCOVER's part.
      if (event.client && event.client !== 'other') draft.firmware = `${firmware6Labels[event.client] ?? event.client} (IPv6)`;
      dhcpFrom(draft, event.time, event.client === 'ipxe', event.messageType === 'SOLICIT' && Boolean(event.client) && event.client !== 'other');
      break;
    case 'dhcp6.sent':
      if (event.bootFileUrl) draft.lastBootFile = event.bootFileUrl;
      break;
    case 'dhcp.ignored':
      draft.lastIgnoredReason = event.reason;
      break;
    case 'http.request':
      if (event.route === 'script' && event.status < 400) advance(draft, 'script', event.time);
      else if (event.status < 400 && event.route !== 'beacon' && isPastKernel(draft) && event.userAgent && !isBootProgramAgent(event.userAgent)) {
        // The preseed or kickstart fetch: the system the boot program loaded asks for itself.
        advance(draft, 'installer', event.time);
      }
      break;
    case 'syslog.line':
      // iPXE logs too (DHCP option 7), under its own name; any other line after the kernel is the system's.
      if (isPastKernel(draft) && !/^ipxe$/i.test(event.app ?? '')) advance(draft, 'installer', event.time);
      break;
    case 'boot.beacon':
      advance(draft, event.beacon === 'booted' ? 'booted' : 'installed', event.time);
      break;
    case 'transfer.start':
    case 'transfer.progress':
    case 'transfer.done':
    case 'transfer.error': {
      if (event.kind === 'transfer.start') advance(draft, stageForFile(event.file), event.time);
      const continuing = event.kind !== 'transfer.start' && draft.transfer?.file === event.file;
      draft.transfer = {
        file: event.file,
        source: event.source === 'http' ? 'http' : 'tftp',
        bytes: event.bytes,
        startedAt: continuing ? draft.transfer!.startedAt : event.time,
        done: event.kind === 'transfer.done' || event.kind === 'transfer.error',
        ...(event.size !== undefined && { size: event.size }),
        ...(event.rate !== undefined && { rate: event.rate }),
      };
      if (event.kind === 'transfer.done' && isIpxeBinary(event.file)) {
        draft.nbpDownloadedAt = event.time;
        draft.nbpFile = event.file;
      }
      break;
    }
    default:
      break;
  }
}

const firmware6Labels: Readonly<Record<string, string>> = { ipxe: 'iPXE', 'uefi-pxe': 'PXE UEFI', 'bios-pxe': 'PXE BIOS', 'uefi-http': 'UEFI HTTP' };

/** The machine was handed its kernel: what is heard from it now comes from that system, not the boot program. */
function isPastKernel(record: ClientRecord): boolean {
  return stageIndex(record.stage) >= stageIndex('kernel');
}

function advance(draft: Draft, stage: BootStage, at: number): void {
  if (stageIndex(stage) <= stageIndex(draft.stage)) return;
  draft.stage = stage;
  draft.path = [...draft.path, { stage, at }];
}

/**
 * A DHCP request from a machine's firmware or iPXE (`asksToBoot`: a DISCOVER or Solicit from a boot ROM, not an
 * installed OS): firmware asking after the machine got further, or iPXE asking after the kernel, starts a new boot
 * cycle; iPXE asking is the iPXE stage.
 */
function dhcpFrom(draft: Draft, at: number, isIpxe: boolean, asksToBoot: boolean): void {
  const afterBoot = stageIndex(draft.stage) >= stageIndex('kernel');
  if (asksToBoot && (isIpxe ? afterBoot : stageIndex(draft.stage) > stageIndex('dhcp'))) newCycle(draft, at);
  if (isIpxe) advance(draft, 'ipxe', at);
}

/** Firmware DHCP after the machine got further: a new boot cycle. */
function newCycle(draft: Draft, at: number): void {
  draft.stage = 'dhcp';
  draft.path = [{ stage: 'dhcp', at }];
  draft.cycles += 1;
  draft.verdicts = NO_VERDICTS;
}
