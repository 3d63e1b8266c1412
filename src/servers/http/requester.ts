/**
 * Which machine an HTTP request speaks for. A request may name a MAC (`?mac=`, as the chained iPXE script
 * and installers' beacons do), but only for its own machine: what the network says about the requesting
 * address wins. The network's word is the registry's IP → MAC (DHCP leases, addresses machines reported,
 * earlier requests) and the kernel's neighbour table; when the registry's record disagrees with a claim, the
 * neighbour table is asked live (an address handed to another machine since).
 *
 * - `network`: the network ties the address to this MAC, and the request named it or nothing.
 * - `claimed`: the network knows nothing of the address (a machine behind a router or relay, loopback); the
 *   request's word is taken, and its access-log event ties the address to that MAC from then on.
 * - `conflict`: the network says the address is another machine. Scripts and beacons are refused (403) and
 *   the event goes on the machine the address really belongs to, with the reason; a file is still served
 *   (files are not per machine) and counted to the address's own machine.
 */
import { parseMac, type Mac } from '../../protocol/mac.js';

export type Requester =
  | { readonly kind: 'network'; readonly mac: Mac }
  | { readonly kind: 'claimed'; readonly mac: Mac }
  | { readonly kind: 'conflict'; readonly claimed: Mac; readonly network: Mac }
  | { readonly kind: 'unknown' }
  | { readonly kind: 'invalid'; readonly reason: string };

export interface NetworkView {
  /** What the network says (registry, then neighbour table). */
  readonly macForIp?: (ip: string) => Mac | undefined;
  /** The neighbour table alone, asked only when a claim disagrees with `macForIp`. */
  readonly liveMacForIp?: (ip: string) => Mac | undefined;
}

function ask(lookup: ((ip: string) => Mac | undefined) | undefined, ip: string): Mac | undefined {
  try {
    return lookup?.(ip);
  } catch {
    return undefined;
  }
}

export function identifyRequester(claim: string | null | undefined, ip: string, view: NetworkView): Requester {
  const text = claim?.trim();
  let claimed: Mac | undefined;
  if (text) {
    claimed = parseMac(text) ?? undefined;
    if (!claimed) return { kind: 'invalid', reason: `"${text.slice(0, 40)}" is not a MAC address` };
  }
  const network = ask(view.macForIp, ip);
  if (!claimed) return network ? { kind: 'network', mac: network } : { kind: 'unknown' };
  if (!network) return { kind: 'claimed', mac: claimed };
  if (network === claimed) return { kind: 'network', mac: network };
  const live = ask(view.liveMacForIp, ip);
  if (live === claimed) return { kind: 'network', mac: claimed };
  return { kind: 'conflict', claimed, network: live ?? network };
}

/** The MAC a request's events are counted to: never one the network contradicts. */
export function macOfRequester(requester: Requester): Mac | undefined {
  if (requester.kind === 'network' || requester.kind === 'claimed') return requester.mac;
  return requester.kind === 'conflict' ? requester.network : undefined;
}

export function conflictReason(ip: string, requester: Extract<Requester, { kind: 'conflict' }>): string {
  return `asked as ${requester.claimed}, but the network says ${ip} is ${requester.network}: a request speaks only for its own machine`;
}
