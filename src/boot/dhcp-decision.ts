/**
 * The one ordered switch that turns "who is asking over DHCP" into a boot file or a reasoned refusal.
 * Pure: the server passes in the client's facts, the operator's policy for it and what it did lately.
 */
import { clientArchNames } from '../protocol/dhcp4/constants.js';
import { isNetbootClient, type DhcpClientFacts } from './client-facts.js';
import { missingBinaryHint } from './boot-binaries.js';

export type EfiBinary = 'ipxe.efi' | 'snponly.efi';

/** Per-machine choices the operator can make; every field optional. */
export interface ClientPolicy {
  readonly ignore?: boolean;
  readonly efiBinary?: EfiBinary;
  /** Proxy mode, UEFI PXE: send it to the boot server on 4011 (default) or put the file in the offer. */
  readonly proxyDelivery?: 'boot-server' | 'offer';
  /** Chainload even an iPXE ROM into pxedeck's iPXE binary before giving it the script. */
  readonly replaceIpxe?: boolean;
  /** BIOS firmware: start iPXE (default) or PXELINUX (which then chains iPXE or boots a kernel itself). */
  readonly bootProgram?: 'ipxe' | 'pxelinux';
}

/** What the registry remembers of this machine that changes the answer. */
export interface ClientHistory {
  /** When this MAC last finished downloading an iPXE binary over TFTP or HTTP. */
  readonly nbpDownloadedAt?: number;
  readonly nbpFile?: string;
  /** The registry diagnosed a chainboot loop in this boot cycle: never hand this iPXE a binary again. */
  readonly looping?: boolean;
}

export interface DhcpDecisionInput {
  readonly facts: DhcpClientFacts;
  readonly policy: ClientPolicy;
  readonly history: ClientHistory;
  readonly now: number;
  /** URL iPXE chains to for its script. */
  readonly scriptUrl: string;
  /** Builds the HTTP URL of a boot binary (UEFI HTTP Boot). */
  readonly httpUrl: (file: string) => string;
  /** Names of the boot binaries that exist in the boot directory. */
  readonly binaries: ReadonlySet<string>;
  /** How long a finished NBP download means "the iPXE asking now is the one we just sent". */
  readonly nbpMemoryMs?: number;
}

export type DhcpBootDecision =
  | { readonly action: 'ignore'; readonly reason: string }
  | {
      readonly action: 'boot';
      readonly step: 'nbp' | 'script';
      readonly bootFile: string;
      readonly transport: 'tftp' | 'http';
      readonly vendorClass: 'PXEClient' | 'HTTPClient';
      readonly reason: string;
    };

const DEFAULT_NBP_MEMORY_MS = 120_000;

/** Architecture → the iPXE build that runs on it, for TFTP (PXE) and HTTP (UEFI HTTP Boot). */
function nbpForArch(arch: number, policy: ClientPolicy): { file: string; transport: 'tftp' | 'http' } | undefined {
  switch (arch) {
    case 0:
      return { file: policy.bootProgram === 'pxelinux' ? 'pxelinux.0' : 'undionly.kpxe', transport: 'tftp' };
    case 6:
      return { file: 'ipxe-i386.efi', transport: 'tftp' };
    case 7:
    case 9:
      return { file: policy.efiBinary ?? 'ipxe.efi', transport: 'tftp' };
    case 10:
      return { file: 'ipxe-arm32.efi', transport: 'tftp' };
    case 11:
      return { file: 'ipxe-arm64.efi', transport: 'tftp' };
    case 15:
      return { file: 'ipxe-i386.efi', transport: 'http' };
    case 16:
      return { file: policy.efiBinary ?? 'ipxe.efi', transport: 'http' };
    case 18:
      return { file: 'ipxe-arm32.efi', transport: 'http' };
    case 19:
      return { file: 'ipxe-arm64.efi', transport: 'http' };
    default:
      return undefined;
  }
}

function archName(arch: number): string {
  return `arch ${arch} (${clientArchNames[arch] ?? 'unknown'})`;
}

function nbpDecision(input: DhcpDecisionInput, why: string): DhcpBootDecision {
  const { facts, policy } = input;
  const arch = facts.arch ?? 0;
  const nbp = nbpForArch(arch, policy);
  if (!nbp) return { action: 'ignore', reason: `${archName(arch)} has no network boot program pxedeck can offer` };
  if (!input.binaries.has(nbp.file)) return { action: 'ignore', reason: `${archName(arch)} needs ${missingBinaryHint(nbp.file)}` };
  if (nbp.transport === 'http') {
    return {
      action: 'boot',
      step: 'nbp',
      bootFile: input.httpUrl(nbp.file),
      transport: 'http',
      vendorClass: 'HTTPClient',
      reason: `${why}: UEFI HTTP Boot ${archName(arch)} gets ${nbp.file} over HTTP`,
    };
  }
  return {
    action: 'boot',
    step: 'nbp',
    bootFile: nbp.file,
    transport: 'tftp',
    vendorClass: 'PXEClient',
    reason: `${why}: ${archName(arch)} gets ${nbp.file} over TFTP`,
  };
}

export function decideDhcpBoot(input: DhcpDecisionInput): DhcpBootDecision {
  const { facts, policy, history, now } = input;
  if (policy.ignore) return { action: 'ignore', reason: 'the operator set this machine to be ignored' };
  if (!isNetbootClient(facts)) {
    return { action: 'ignore', reason: 'not a network-boot client: no PXEClient/HTTPClient vendor class (60) and not iPXE' };
  }
  if (facts.isIpxe) {
    // The iPXE ROM and a chainloaded undionly.kpxe send identical options: only the download we just
    // served tells them apart, and without that memory "replace the ROM" becomes the chainboot loop.
    const justLoaded =
      history.nbpDownloadedAt !== undefined && now - history.nbpDownloadedAt <= (input.nbpMemoryMs ?? DEFAULT_NBP_MEMORY_MS);
    const lacksHttp = facts.ipxe !== undefined && facts.ipxe.features.length > 0 && !facts.ipxe.features.includes('http');
    // A machine set to PXELINUX gets it even when its NIC ROM is iPXE (iPXE runs pxelinux.0 as any PXE NBP).
    const wantsPxelinux = policy.bootProgram === 'pxelinux' && (facts.arch ?? 0) === 0;
    if ((policy.replaceIpxe || wantsPxelinux || lacksHttp) && !justLoaded && !history.looping) {
      const why = wantsPxelinux
        ? 'this machine is set to PXELINUX'
        : lacksHttp
          ? 'this iPXE has no HTTP support, chainloading pxedeck’s iPXE'
          : 'replacing this iPXE with pxedeck’s build';
      return nbpDecision(input, why);
    }
    return {
      action: 'boot',
      step: 'script',
      bootFile: input.scriptUrl,
      transport: 'http',
      vendorClass: 'PXEClient',
      reason: history.looping
        ? 'iPXE in a diagnosed chainboot loop: the script, never the binary again (loop broken)'
        : justLoaded
          ? `iPXE that just downloaded ${history.nbpFile ?? 'its binary'}: chain to the script, not the binary again (no loop)`
          : 'iPXE: chain to this machine’s script over HTTP',
    };
  }
  return nbpDecision(input, facts.firmware === 'uefi-http' ? 'HTTPClient' : 'PXE firmware');
}
