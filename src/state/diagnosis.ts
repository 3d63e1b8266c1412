/**
 * Per-machine diagnosis: the chainboot loop, Secure Boot refusing iPXE, UEFI firmware that never asks the
 * boot server, TFTP stalls after the OACK, spanning-tree delays. Fed one event at a time by the registry; each finding names its
 * cause and the fix, and is raised once per boot cycle.
 */
import type { PxedeckEvent } from '../servers/events.js';
import { isIpxeBinary, isPxelinuxBinary, isShimBinary } from './stages.js';
import { optionValue } from '../protocol/dhcp4/options-view.js';

export type VerdictKind = 'loop' | 'secure-boot-refused' | 'grub-server-elsewhere' | 'uefi-no-boot-server' | 'tftp-stall' | 'spanning-tree' | 'offers-unanswered';

export interface Verdict {
  readonly kind: VerdictKind;
  readonly severity: 'warning' | 'error';
  readonly at: number;
  readonly summary: string;
  readonly cause: string;
  readonly fix: string;
}

export interface DiagnosisOptions {
  /** Network-boot-program downloads within `loopWindowMs` that make a loop (default 3 in 60 s). */
  readonly loopCount?: number;
  readonly loopWindowMs?: number;
  /** A first DISCOVER whose `secs` is at least this says the machine asked long before we heard it. */
  readonly lateFirstDiscoverSeconds?: number;
  /** Firmware asking again this soon after an EFI iPXE download, iPXE never heard: Secure Boot refused it (default 120 s). */
  readonly secureBootWindowMs?: number;
}

interface NbpGift {
  readonly file: string;
  readonly at: number;
  readonly messageType: string;
  readonly xid: number;
  readonly source: string;
}

/**
 * What the diagnosis remembers of one machine between events. Its maps and set are made on first use: a
 * state is made for every machine heard, and most never need them (an ordinary DHCP client, a flood).
 */
export interface DiagnosisState {
  /** NBP downloads started in this boot cycle (the firmware's size probe included). */
  nbpStarts: readonly number[];
  /** NBP downloads completed in the recent window, reset once a kernel boots: repeated ones are a boot loop. */
  nbpDone: readonly number[];
  /** In this boot cycle: an NBP was downloaded, then iPXE asked DHCP. */
  nbpThenIpxe: boolean;
  /** iPXE DHCP sessions (xids) since the machine last fetched its script: each new one is iPXE restarting. */
  ipxeSessions: readonly number[];
  /** What pxedeck handed each of those sessions. */
  sessionGifts?: Map<number, 'script' | 'nbp'>;
  /** A server the machine's REQUEST chose instead of pxedeck in this cycle. */
  otherServer?: string;
  /** The last boot file another server was overheard handing this machine (its reply on UDP 68). */
  overheardGift?: { readonly server: string; readonly file: string; readonly at: number };
  lastNbpGift?: NbpGift;
  /** UEFI proxy offers without a boot file (steered to 4011), by xid, and how often the same xid came back. */
  steeredXids?: Map<number, number>;
  askedBootServer: boolean;
  /** DISCOVERs answered with an OFFER and no REQUEST since, with their `secs`. */
  unansweredOffers: number;
  lastSecs: number;
  firstDiscoverSeen: boolean;
  /** The firmware's current DHCP session: a retransmission (same xid) does not start a new cycle. */
  firmwareXid?: number;
  reachedKernel: boolean;
  /**
   * The EFI iPXE binary this machine finished downloading, until iPXE speaks: kept across boot cycles,
   * because the firmware's next attempt (PXEv6, HTTP Boot) is exactly what starts a new one.
   */
  efiIpxeDownload?: { readonly file: string; readonly at: number };
  /** The site server's ACK named this next-server (siaddr): where Debian 12's GRUB will ask for its config. */
  siteNextServer?: string;
  /** pxedeck's own address, from the reply that handed this machine shim. */
  shimFrom?: string;
  raised?: Set<VerdictKind>;
}

/**
 * The lists of a machine that has not got that far: shared and never changed (a change makes a new list). Most
 * machines never get a boot program, and every machine a DHCP burst brings has a state; three empty arrays
 * each were a tenth of what such a machine leaves in the old generation (bench:registry).
 */
const NONE: readonly number[] = Object.freeze([]);

/**
 * A machine's state before its first event. Every field is there from the start, so a state keeps one shape as
 * its machine gets further, and emptying one in place (clearDiagnosisState) allocates nothing.
 */
const FRESH: Readonly<DiagnosisState> = Object.freeze({
  nbpStarts: NONE,
  nbpDone: NONE,
  nbpThenIpxe: false,
  ipxeSessions: NONE,
  sessionGifts: undefined,
  otherServer: undefined,
  overheardGift: undefined,
  lastNbpGift: undefined,
  steeredXids: undefined,
  askedBootServer: false,
  unansweredOffers: 0,
  lastSecs: 0,
  firstDiscoverSeen: false,
  firmwareXid: undefined,
  reachedKernel: false,
  efiIpxeDownload: undefined,
  siteNextServer: undefined,
  shimFrom: undefined,
  raised: undefined,
});

export function newDiagnosisState(): DiagnosisState {
  return { ...FRESH };
}

/** `state` as a new machine's: the registry hands a forgotten machine's state to the next one (registry.ts). */
export function clearDiagnosisState(state: DiagnosisState): void {
  Object.assign(state, FRESH);
}

const isNbp = (file: string) => isIpxeBinary(file) || isPxelinuxBinary(file);
const isGrubBinary = (file: string) => /(^|\/)grub[a-z0-9]*\.efi$/i.test(file);

/** The firmware itself asking for a boot answer (not iPXE, not an installed OS's DHCP client). */
function firmwareAsks(event: PxedeckEvent): boolean {
  if (event.kind === 'dhcp.received') return event.messageType === 'DISCOVER' && event.client !== undefined && !event.client.startsWith('iPXE') && event.client !== 'DHCP client';
  if (event.kind === 'dhcp6.received') return event.messageType === 'SOLICIT' && (event.client === 'uefi-pxe' || event.client === 'uefi-http');
  return false;
}

function ipxeSpoke(event: PxedeckEvent): boolean {
  return (event.kind === 'dhcp.received' && (event.client?.startsWith('iPXE') ?? false)) || (event.kind === 'dhcp6.received' && event.client === 'ipxe');
}

/**
 * Secure Boot firmware downloads ipxe.efi, refuses it (unsigned: "Access Denied") and goes on to its next
 * boot entry (PXEv6, HTTP Boot): the machine asks again as firmware without iPXE ever having spoken.
 */
function secureBootRefusal(state: DiagnosisState, event: PxedeckEvent, windowMs: number): Omit<Verdict, 'at'> | undefined {
  const download = state.efiIpxeDownload;
  if (ipxeSpoke(event) || event.kind === 'boot.beacon') delete state.efiIpxeDownload;
  if (!download || !firmwareAsks(event)) return undefined;
  delete state.efiIpxeDownload;
  const after = event.time - download.at;
  if (after > windowMs) return undefined;
  const client = event.kind === 'dhcp.received' ? (event.client ?? '') : '';
  const again = event.kind === 'dhcp6.received' ? 'over DHCPv6 (its PXEv6 entry)' : client.startsWith('HTTP') ? 'for UEFI HTTP Boot' : 'over DHCP';
  return {
    kind: 'secure-boot-refused',
    severity: 'warning',
    summary: `Secure Boot refused ${download.file}`,
    cause: `the firmware downloaded ${download.file} and asked again ${again} ${(after / 1000).toFixed(1)} s later without iPXE ever starting: Secure Boot firmware refuses programs not signed by a key it trusts, and iPXE's are unsigned`,
    fix: `pxedeck now gives this machine the signed chain (shim → GRUB → kernel over TFTP) and remembers it; set it back to iPXE in the console (or clients.json) after turning Secure Boot off`,
  };
}

function fileName(path: string): string {
  return path.split('/').pop() ?? path;
}

/** A fresh boot cycle: the firmware (not iPXE) asks, or anything asks after the machine booted a kernel. */
function startCycle(state: DiagnosisState): void {
  if (state.reachedKernel) state.nbpDone = NONE;
  state.nbpStarts = NONE;
  state.nbpThenIpxe = false;
  state.ipxeSessions = NONE;
  state.sessionGifts?.clear();
  delete state.otherServer;
  state.steeredXids?.clear();
  state.askedBootServer = false;
  state.unansweredOffers = 0;
  state.firstDiscoverSeen = false;
  state.reachedKernel = false;
  state.raised?.clear();
}

/**
 * Folds one event into the machine's diagnosis state; returns a new verdict when this event completes one.
 * `foreignServers` lists other DHCP servers seen on the segment, to name them as a loop's likely cause.
 */
export function diagnose(
  state: DiagnosisState,
  event: PxedeckEvent,
  foreignServers: readonly string[],
  options: DiagnosisOptions = {},
): Verdict | undefined {
  const loopCount = options.loopCount ?? 3;
  const loopWindowMs = options.loopWindowMs ?? 60_000;
  const raise = (verdict: Omit<Verdict, 'at'>): Verdict | undefined => {
    if (state.raised?.has(verdict.kind)) return undefined;
    (state.raised ??= new Set()).add(verdict.kind);
    return { ...verdict, at: event.time };
  };

  const loopVerdict = (what: string, file: string | undefined, notOurs = false): Verdict | undefined => {
    const gift = state.lastNbpGift;
    const ours = !notOurs && gift !== undefined && event.time - gift.at < 30_000 && (file === undefined || gift.file === file);
    const elsewhere = state.otherServer ?? (foreignServers.length ? foreignServers.join(', ') : undefined);
    const overheard = state.overheardGift && event.time - state.overheardGift.at < 60_000 ? state.overheardGift : undefined;
    const cause = ours
      ? `pxedeck's ${gift.messageType} (xid ${gift.xid.toString(16)}, ${gift.source === 'pxe4011' ? 'boot server on 4011' : 'DHCP on 67'}) handed ${gift.file} to a machine that was already running iPXE`
      : overheard
        ? `the DHCP server ${overheard.server} handed this machine ${overheard.file} (its reply was overheard on UDP 68), and the machine came back for another`
        : state.otherServer
          ? `the DHCP server ${state.otherServer} answered it (its REQUEST names ${state.otherServer}, not pxedeck) and handed iPXE a boot program again`
          : `pxedeck did not hand ${file ?? 'a boot program'} to this iPXE: another DHCP server did${elsewhere ? ` (seen on this segment: ${elsewhere})` : ''}`;
    const fix = ours
      ? 'pxedeck now answers this machine’s iPXE with its script (the loop is broken on its next request); if the loop persists, look for another DHCP server on the segment'
      : `make ${state.otherServer ?? overheard?.server ?? 'that server'} give iPXE (user class "iPXE" or option 175) the script URL instead of the binary — or stop it answering PXE clients, or use pxedeck in full DHCP mode on an isolated switch`;
    return raise({ kind: 'loop', severity: 'error', summary: what, cause, fix });
  };

  const refused = secureBootRefusal(state, event, options.secureBootWindowMs ?? 120_000);

  switch (event.kind) {
    case 'dhcp6.received':
      return refused ? raise(refused) : undefined;
    case 'dhcp.foreign-reply':
      if (event.bootFile) state.overheardGift = { server: event.server, file: event.bootFile, at: event.time };
      if (event.messageType === 'ACK') state.siteNextServer = event.nextServer ?? event.server;
      return undefined;
    case 'dhcp.received': {
      const isIpxe = event.client?.startsWith('iPXE') ?? false;
      const firmware = !isIpxe && event.client !== 'DHCP client';
      if (event.messageType === 'DISCOVER' && ((firmware && event.xid !== state.firmwareXid) || state.reachedKernel)) startCycle(state);
      if (event.messageType === 'DISCOVER' && firmware) state.firmwareXid = event.xid;
      // Raised in the cycle the firmware's new attempt starts, so it stays on the record the decision reads.
      if (refused) return raise(refused);
      if (isIpxe && event.messageType === 'DISCOVER' && !state.ipxeSessions.includes(event.xid)) {
        const previous = state.ipxeSessions.at(-1);
        state.ipxeSessions = [...state.ipxeSessions, event.xid];
        const gifts = state.ipxeSessions.slice(0, -1).map((xid) => state.sessionGifts?.get(xid));
        const last = previous === undefined ? undefined : state.sessionGifts?.get(previous);
        // iPXE restarting DHCP without fetching the script it was given: something else gave it a binary.
        if (last === 'script' || (previous !== undefined && last === undefined && state.otherServer)) {
          const what = last === 'script' ? 'without fetching the script pxedeck gave it' : 'without fetching a script (pxedeck did not answer it; another server did)';
          const verdict = loopVerdict(`chainboot loop: iPXE restarted DHCP ${what}`, undefined, true);
          if (verdict) return verdict;
        }
        // pxedeck replacing an iPXE once is intended; twice in a row is a loop of its own making.
        const nbps = gifts.filter((gift) => gift === 'nbp').length;
        if (nbps >= 2 || state.ipxeSessions.length >= loopCount) {
          const verdict = loopVerdict(`chainboot loop: iPXE started DHCP ${state.ipxeSessions.length} times without fetching its script`, undefined);
          if (verdict) return verdict;
        }
      }
      if (event.source === 'pxe4011') state.askedBootServer = true;
      if (isIpxe && state.nbpStarts.length > 0) state.nbpThenIpxe = true;
      if (event.messageType === 'REQUEST') state.unansweredOffers = 0;
      if (event.messageType !== 'DISCOVER' || event.source !== 'dhcp4') return undefined;
      if (!state.firstDiscoverSeen) {
        state.firstDiscoverSeen = true;
        const secs = event.secs ?? 0;
        if (secs >= (options.lateFirstDiscoverSeconds ?? 10)) {
          return raise({
            kind: 'spanning-tree',
            severity: 'warning',
            summary: `its first DHCP packet to reach pxedeck says it had been asking for ${secs} s`,
            cause: 'the switch port dropped its first packets: a port in spanning-tree listening/learning state forwards nothing for ~30 s (iPXE then gives up with "no configuration methods succeeded")',
            fix: 'enable portfast / edge port (or disable STP) on the switch port the machine is plugged into',
          });
        }
      }
      const steered = state.steeredXids;
      const repeats = steered?.get(event.xid);
      if (steered && repeats !== undefined) {
        steered.set(event.xid, repeats + 1);
        if (repeats + 1 >= 2 && !state.askedBootServer) {
          return raise({
            kind: 'uefi-no-boot-server',
            severity: 'warning',
            summary: 'UEFI firmware took the proxy offer but never asked the boot server on UDP 4011',
            cause: `it repeats DISCOVER ${event.xid.toString(16)} instead of sending its REQUEST to port 4011: this firmware does not do PXE boot-server discovery after a proxy offer without a boot file`,
            fix: 'give this machine the boot file in the proxy offer (proxyDelivery "offer" in clients.json, or the console), or run pxedeck in full DHCP mode',
          });
        }
      }
      return undefined;
    }
    case 'dhcp.sent': {
      if (event.messageType === 'OFFER') state.unansweredOffers += 1;
      if (event.bootFile && isShimBinary(event.bootFile)) {
        const serverId = optionValue(event.options, '54:server-id');
        if (typeof serverId === 'string') state.shimFrom = serverId;
      }
      if (event.bootFile && isNbp(fileName(event.bootFile))) {
        state.lastNbpGift = { file: fileName(event.bootFile), at: event.time, messageType: event.messageType, xid: event.xid, source: event.source };
      }
      if (event.bootFile && state.ipxeSessions.includes(event.xid)) (state.sessionGifts ??= new Map()).set(event.xid, isNbp(fileName(event.bootFile)) ? 'nbp' : 'script');
      if (event.messageType === 'OFFER' && !event.bootFile && event.source === 'dhcp4' && optionValue(event.options, '60:vendor-class') === 'PXEClient') {
        state.steeredXids ??= new Map();
        if (!state.steeredXids.has(event.xid)) state.steeredXids.set(event.xid, 0);
      }
      if (state.unansweredOffers >= 4) {
        return raise({
          kind: 'offers-unanswered',
          severity: 'warning',
          summary: `${state.unansweredOffers} offers went unanswered: the machine keeps asking and never takes one`,
          cause: 'the replies do not reach it, or it prefers another server; a switch port still in spanning-tree listening/learning drops the first ~30 s of traffic',
          fix: 'enable portfast / edge port on the switch port; check that no other DHCP server answers (the console lists those seen)',
        });
      }
      return undefined;
    }
    case 'transfer.start': {
      if (!isNbp(fileName(event.file))) {
        if (/vmlinuz|kernel|linux|bzimage/i.test(event.file)) state.reachedKernel = true;
        return undefined;
      }
      const again = state.nbpThenIpxe;
      state.nbpStarts = [...state.nbpStarts, event.time];
      if (!again) return undefined;
      return loopVerdict(`chainboot loop: iPXE was handed ${fileName(event.file)} again`, fileName(event.file));
    }
    case 'transfer.done': {
      if (isGrubBinary(event.file) && state.shimFrom && state.siteNextServer && state.siteNextServer !== state.shimFrom) {
        return raise({
          kind: 'grub-server-elsewhere',
          severity: 'error',
          summary: `GRUB will ask ${state.siteNextServer} for its config, not pxedeck`,
          cause: `the signed GRUB (Debian 12's 2.06) takes its TFTP server from the DHCP server's ACK, whose next-server is ${state.siteNextServer}; it does not read pxedeck's proxy offer, so it stops at a grub> prompt`,
          fix: `make the site DHCP server name ${state.shimFrom} as next-server (siaddr) for these machines (ISC: next-server; dnsmasq: --dhcp-option=option:server-ip-address,${state.shimFrom}), or run pxedeck in full DHCP mode on an isolated switch`,
        });
      }
      if (!isNbp(fileName(event.file))) return undefined;
      if (isIpxeBinary(event.file) && /\.efi$/i.test(event.file)) state.efiIpxeDownload = { file: fileName(event.file), at: event.time };
      state.nbpDone = [...state.nbpDone.filter((at) => event.time - at <= loopWindowMs), event.time];
      if (state.nbpDone.length < loopCount) return undefined;
      const gift = state.lastNbpGift;
      const file = fileName(event.file);
      return raise({
        kind: 'loop',
        severity: 'error',
        summary: `boot loop: ${state.nbpDone.length} downloads of ${file} within ${Math.round(loopWindowMs / 1000)} s without reaching a kernel`,
        cause:
          gift && gift.file === file
            ? `pxedeck's ${gift.messageType} hands ${file} each time and the machine comes back to its firmware after loading it: ${file} does not start on this machine, or what it loads fails`
            : `another server hands it ${file} each time${foreignServers.length ? ` (seen on this segment: ${foreignServers.join(', ')})` : ''}, and the machine comes back to its firmware after loading it`,
        fix: `try the other iPXE build for this machine (snponly.efi instead of ipxe.efi, or PXELINUX), and look at the timeline for the step after ${file}`,
      });
    }
    case 'transfer.error': {
      if (event.source !== 'tftp' || event.benign) return undefined;
      const blksize = event.options?.['blksize'];
      if (event.bytes <= (blksize ?? 512) * 4 && blksize !== undefined && blksize > 512) {
        return raise({
          kind: 'tftp-stall',
          severity: 'warning',
          summary: `TFTP ${fileName(event.file)} stalled right after the option acknowledgement (blksize ${blksize})`,
          cause: 'large TFTP blocks are fragmented or dropped on the way (a small MTU, a VLAN tag, or a firmware that cannot take them)',
          fix: `lower this machine's TFTP block size cap (blksizeCap 1024 or 512 in clients.json, or the console)`,
        });
      }
      return undefined;
    }
    case 'boot.beacon':
      state.reachedKernel = true;
      return undefined;
    case 'dhcp.ignored':
      if (event.otherServer) state.otherServer = event.otherServer;
      return undefined;
    case 'http.request':
      if ((event.route === 'script' || event.route === 'boot-script') && event.status < 400) {
        state.ipxeSessions = NONE;
        state.sessionGifts?.clear();
      }
      return undefined;
    default:
      return undefined;
  }
}
