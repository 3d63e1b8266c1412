/**
 * The one ordered switch that turns "who is asking over DHCP" into a boot file or a reasoned refusal.
 * Pure: the server passes in the client's facts, the operator's policy for it and what it did lately.
 */
import { clientArchNames } from '../protocol/dhcp4/constants.js';
import { isNetbootClient, type DhcpClientFacts } from './client-facts.js';
import { missingBinaryHint, signedChain } from './boot-binaries.js';

export type EfiBinary = 'ipxe.efi' | 'snponly.efi';
export type BiosBinary = 'undionly.kpxe' | 'undionly.kkpxe';

/** What x64 UEFI firmware starts: iPXE (unsigned), or the Secure Boot chain shim → signed GRUB. */
export type UefiBootProgram = 'ipxe' | 'signed';

/** Per-machine choices the operator can make; every field optional. */
export interface ClientPolicy {
  readonly ignore?: boolean;
  readonly efiBinary?: EfiBinary;
  /**
   * BIOS PXE: undionly.kpxe (default) or undionly.kkpxe, which keeps the PXE stack loaded as well as UNDI
   * (for NICs whose UNDI fails once the PXE stack is unloaded). iPXE since 2013 reuses the PXE ROM's DHCPACK
   * with either build and asks DHCP again on `autoboot` with either ("use-cached" is gone): docs/lab-seeds.md.
   */
  readonly biosBinary?: BiosBinary;
  /** Proxy mode, UEFI PXE: send it to the boot server on 4011 (default) or put the file in the offer. */
  readonly proxyDelivery?: 'boot-server' | 'offer';
  /** Chainload even an iPXE ROM into pxedeck's iPXE binary before giving it the script. */
  readonly replaceIpxe?: boolean;
  /** BIOS firmware: start iPXE (default) or PXELINUX (which then chains iPXE or boots a kernel itself). */
  readonly bootProgram?: 'ipxe' | 'pxelinux';
  /** x64 UEFI firmware: iPXE or the signed chain; unset follows the default (and the Secure Boot self-repair). */
  readonly uefiBootProgram?: UefiBootProgram;
  /** When pxedeck set uefiBootProgram "signed" itself, after Secure Boot refused iPXE (ms since the epoch). */
  readonly secureBootLearnedAt?: number;
}

/** What the registry remembers of this machine that changes the answer. */
export interface ClientHistory {
  /** When this MAC last finished downloading an iPXE binary over TFTP or HTTP. */
  readonly nbpDownloadedAt?: number;
  readonly nbpFile?: string;
  /** The registry diagnosed a chainboot loop in this boot cycle: never hand this iPXE a binary again. */
  readonly looping?: boolean;
  /** Secure Boot refused the iPXE this machine downloaded (diagnosed in this boot cycle). */
  readonly secureBootRefused?: boolean;
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
  /** What x64 UEFI machines without a choice of their own start. Default iPXE. */
  readonly defaultUefiBootProgram?: UefiBootProgram;
  /**
   * The signed GRUB on hand can read its config over HTTP (an `http` module built in). Debian 12's cannot
   * (and cannot load one under Secure Boot): UEFI HTTP Boot clients then cannot be given the signed chain.
   */
  readonly signedChainOverHttp?: boolean;
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
      return { file: policy.bootProgram === 'pxelinux' ? 'pxelinux.0' : (policy.biosBinary ?? 'undionly.kpxe'), transport: 'tftp' };
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

/** x64 UEFI: PXE (7, and 9 which firmware sends for x64 too) and HTTP Boot (16). */
const x64Uefi = new Set([7, 9, 16]);

function wantsSignedChain(input: DhcpDecisionInput): keyof typeof signedBecause | undefined {
  const { policy, history } = input;
  if (!x64Uefi.has(input.facts.arch ?? 0)) return undefined;
  if (policy.uefiBootProgram !== undefined) return policy.uefiBootProgram !== 'signed' ? undefined : policy.secureBootLearnedAt !== undefined ? 'remembered' : 'operator';
  if (history.secureBootRefused) return 'self-repair';
  return input.defaultUefiBootProgram === 'signed' ? 'default' : undefined;
}

const signedBecause = {
  operator: 'this machine is set to the Secure Boot chain',
  default: 'the default for UEFI machines is the Secure Boot chain',
  'self-repair': 'Secure Boot refused ipxe.efi on this machine',
  remembered: 'Secure Boot refused ipxe.efi on this machine before (remembered in clients.json)',
} as const;

function signedChainDecision(input: DhcpDecisionInput, why: keyof typeof signedBecause): DhcpBootDecision {
  const arch = input.facts.arch ?? 0;
  const missing = [signedChain.shim, signedChain.grub].filter((file) => !input.binaries.has(file));
  if (missing.length > 0) return { action: 'ignore', reason: `${archName(arch)} needs the Secure Boot chain: ${missing.map(missingBinaryHint).join('; ')}` };
  const chain = `${signedChain.shim} → ${signedChain.grub}`;
  if (arch === 16) {
    if (!input.signedChainOverHttp) {
      return {
        action: 'ignore',
        reason: `${signedBecause[why]}, but over UEFI HTTP Boot the signed GRUB here cannot read its config (no http module, and Secure Boot forbids loading one): left to the firmware's PXE boot entries, which get ${chain} over TFTP`,
      };
    }
    return {
      action: 'boot',
      step: 'nbp',
      bootFile: input.httpUrl(signedChain.shim),
      transport: 'http',
      vendorClass: 'HTTPClient',
      reason: `${signedBecause[why]}: UEFI HTTP Boot ${archName(arch)} gets ${chain} over HTTP`,
    };
  }
  return {
    action: 'boot',
    step: 'nbp',
    bootFile: signedChain.shim,
    transport: 'tftp',
    vendorClass: 'PXEClient',
    reason: `${signedBecause[why]}: ${archName(arch)} gets ${chain} over TFTP`,
  };
}

function nbpDecision(input: DhcpDecisionInput, why: string): DhcpBootDecision {
  const { facts, policy } = input;
  const arch = facts.arch ?? 0;
  const signed = wantsSignedChain(input);
  if (signed) return signedChainDecision(input, signed);
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
