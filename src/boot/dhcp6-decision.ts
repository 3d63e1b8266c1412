/**
 * The DHCPv6 boot answer (option 59). The choice itself is DHCPv4's — one ordered switch in
 * dhcp-decision.ts (operator ignore → not a netboot client → iPXE gets the script unless it must be
 * replaced → NBP by architecture) — so both families can never drift apart; this module only turns the
 * chosen file into the URL DHCPv6 needs (RFC 5970: a URL, never a bare file name), with bracketed literals.
 */
import type { Mac } from '../protocol/mac.js';
import type { DhcpClientFacts } from './client-facts.js';
import { decideDhcpBoot, type ClientHistory, type ClientPolicy, type DhcpBootDecision, type DhcpDecisionInput } from './dhcp-decision.js';
import { isNetboot6Client, type Dhcp6ClientFacts } from './dhcp6-facts.js';

export interface Dhcp6DecisionInput {
  readonly facts: Dhcp6ClientFacts;
  readonly policy: ClientPolicy;
  readonly history: ClientHistory;
  readonly now: number;
  /** The server's address on the segment, as the client can reach it (global or ULA, not link-local). */
  readonly serverAddress: string;
  /** Default `http://[addr]/boot.ipxe`. */
  readonly scriptUrl?: string;
  readonly httpPort?: number;
  readonly binaries: ReadonlySet<string>;
  readonly nbpMemoryMs?: number;
  readonly defaultUefiBootProgram?: DhcpDecisionInput['defaultUefiBootProgram'];
  readonly signedChainOverHttp?: boolean;
}

export type Dhcp6BootDecision =
  | { readonly action: 'ignore'; readonly reason: string }
  | {
      readonly action: 'boot';
      readonly step: 'nbp' | 'script';
      readonly bootFileUrl: string;
      readonly transport: 'tftp' | 'http';
      readonly vendorClass: 'PXEClient' | 'HTTPClient';
      readonly reason: string;
    };

export function bracketHost(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

export function serverUrls(serverAddress: string, httpPort = 80): { script: string; http: (file: string) => string; tftp: (file: string) => string } {
  const host = bracketHost(serverAddress);
  const http = `http://${host}${httpPort === 80 ? '' : `:${httpPort}`}`;
  return {
    script: `${http}/boot.ipxe`,
    http: (file) => `${http}/${file.replace(/^\/+/, '')}`,
    tftp: (file) => `tftp://${host}/${file.replace(/^\/+/, '')}`,
  };
}

/** The DHCPv4 switch needs a MAC-shaped field it never reads for the decision itself. */
const NO_MAC = '00:00:00:00:00:00' as Mac;

function asDhcp4Facts(facts: Dhcp6ClientFacts): DhcpClientFacts {
  return {
    mac: facts.mac ?? NO_MAC,
    messageType: undefined,
    userClasses: facts.userClasses,
    isIpxe: facts.isIpxe,
    firmware: facts.firmware,
    ...(facts.vendorClass && { vendorClass: facts.vendorClass }),
    ...(facts.arch !== undefined && { arch: facts.arch }),
    ...(facts.uuid && { uuid: facts.uuid }),
  };
}

export function decideDhcp6Boot(input: Dhcp6DecisionInput): Dhcp6BootDecision {
  const { facts } = input;
  if (!input.policy.ignore && !isNetboot6Client(facts)) {
    return { action: 'ignore', reason: 'not a network-boot client: no PXEClient/HTTPClient vendor class (16) and no iPXE user class (15)' };
  }
  const urls = serverUrls(input.serverAddress, input.httpPort);
  // PXELINUX has no IPv6 stack: over DHCPv6 a BIOS machine set to PXELINUX still gets iPXE.
  const policy: ClientPolicy = input.policy.bootProgram === 'pxelinux' ? { ...input.policy, bootProgram: 'ipxe' } : input.policy;
  const decision: DhcpBootDecision = decideDhcpBoot({
    facts: asDhcp4Facts(facts),
    policy,
    history: input.history,
    now: input.now,
    scriptUrl: input.scriptUrl ?? urls.script,
    httpUrl: urls.http,
    binaries: input.binaries,
    ...(input.nbpMemoryMs !== undefined && { nbpMemoryMs: input.nbpMemoryMs }),
    ...(input.defaultUefiBootProgram && { defaultUefiBootProgram: input.defaultUefiBootProgram }),
    ...(input.signedChainOverHttp !== undefined && { signedChainOverHttp: input.signedChainOverHttp }),
  });
  if (decision.action === 'ignore') return decision;
  const bootFileUrl = decision.transport === 'tftp' && !/^[a-z]+:\/\//i.test(decision.bootFile) ? urls.tftp(decision.bootFile) : decision.bootFile;
  return {
    action: 'boot',
    step: decision.step,
    bootFileUrl,
    transport: decision.transport,
    vendorClass: decision.vendorClass,
    reason: decision.reason,
  };
}
