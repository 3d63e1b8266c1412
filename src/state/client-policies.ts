/** Per-machine operator choices (ignore, UEFI delivery, iPXE binary, iPXE or the signed chain), persisted in the data dir. */
import type { BiosBinary, ClientPolicy } from '../boot/dhcp-decision.js';
import { parseMac, type Mac } from '../protocol/mac.js';
import { openConfFile } from './conf-file.js';

/** The DHCP-level choices plus transport knobs the TFTP side reads. */
export interface MachinePolicy extends ClientPolicy {
  /** A lower TFTP blksize for this machine (firmware that stalls after the OACK at large sizes). */
  readonly blksizeCap?: number;
}

/** The operator's choice of what x64 UEFI starts: "default" returns the machine to the setting (and the self-repair). */
export type UefiChoice = 'ipxe' | 'signed' | 'default';

export function withUefiBootProgram(policy: MachinePolicy, choice: UefiChoice): MachinePolicy {
  const { uefiBootProgram: _previous, secureBootLearnedAt: _learned, ...rest } = policy;
  return choice === 'default' ? rest : { ...rest, uefiBootProgram: choice };
}

/** The console's key steps through the choices: default → signed chain → iPXE → default. */
export function nextUefiChoice(policy: MachinePolicy): UefiChoice {
  return policy.uefiBootProgram === undefined ? 'signed' : policy.uefiBootProgram === 'signed' ? 'ipxe' : 'default';
}

export const uefiChoiceText: Readonly<Record<UefiChoice, string>> = {
  signed: 'x64 UEFI boots the Secure Boot chain (shim → signed GRUB)',
  ipxe: 'x64 UEFI boots iPXE (no Secure Boot self-repair)',
  default: 'x64 UEFI follows the default (iPXE first, the signed chain once Secure Boot refuses it)',
};

export interface ClientPolicyStore {
  get(mac: Mac): MachinePolicy;
  set(mac: Mac, policy: MachinePolicy): void;
}

const delivery = new Set(['boot-server', 'offer']);
const efi = new Set(['ipxe.efi', 'snponly.efi']);
const bios = new Set(['undionly.kpxe', 'undionly.kkpxe']);

/** Keeps only the fields that make sense, so a hand edit cannot turn into a crash at boot time. */
function sanitize(raw: unknown): MachinePolicy {
  if (typeof raw !== 'object' || raw === null) return {};
  const value = raw as Record<string, unknown>;
  return {
    ...(value.ignore === true && { ignore: true }),
    ...(Number.isInteger(value.blksizeCap) && (value.blksizeCap as number) >= 8 && (value.blksizeCap as number) <= 65464 && { blksizeCap: value.blksizeCap as number }),
    ...(value.replaceIpxe === true && { replaceIpxe: true }),
    ...((value.uefiBootProgram === 'ipxe' || value.uefiBootProgram === 'signed') && { uefiBootProgram: value.uefiBootProgram }),
    ...(Number.isFinite(value.secureBootLearnedAt) && { secureBootLearnedAt: value.secureBootLearnedAt as number }),
    ...((value.bootProgram === 'ipxe' || value.bootProgram === 'pxelinux') && { bootProgram: value.bootProgram }),
    ...(typeof value.proxyDelivery === 'string' && delivery.has(value.proxyDelivery) && { proxyDelivery: value.proxyDelivery as 'boot-server' | 'offer' }),
    ...(typeof value.efiBinary === 'string' && efi.has(value.efiBinary) && { efiBinary: value.efiBinary as 'ipxe.efi' | 'snponly.efi' }),
    ...(typeof value.biosBinary === 'string' && bios.has(value.biosBinary) && { biosBinary: value.biosBinary as BiosBinary }),
  };
}

export function openClientPolicies(dataDir: string): ClientPolicyStore {
  const conf = openConfFile<Record<string, unknown>>(dataDir, 'clients', {});
  const cache = new Map<Mac, MachinePolicy>();
  for (const [key, value] of Object.entries(conf.store)) {
    const mac = parseMac(key);
    if (mac) cache.set(mac, sanitize(value));
  }
  return {
    get: (mac) => cache.get(mac) ?? {},
    set(mac, policy) {
      const clean = sanitize(policy);
      cache.set(mac, clean);
      conf.set(mac, clean);
    },
  };
}
