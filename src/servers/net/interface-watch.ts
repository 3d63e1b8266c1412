/**
 * The served interface over time: polled state (index, flags, operstate, IPv4 and usable IPv6 addresses),
 * what changed between polls, and which IPv6 address boot URLs keep naming.
 */
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import ipaddr from '../../protocol/ipaddr.js';
import { readSys } from './interfaces.js';

/** What the watcher compares between polls. */
export interface InterfaceState {
  readonly present: boolean;
  readonly index?: number;
  readonly up: boolean;
  readonly operstate: string;
  readonly ipv4: readonly string[];
  /** Usable global and ULA IPv6 addresses, `address/prefix`, sorted: what boot URLs can name. */
  readonly ipv6: readonly string[];
}

const IFA_F_DADFAILED = 0x08;
const IFA_F_TENTATIVE = 0x40;
const IPV6_SCOPE_HOST = 0x10;
const IPV6_SCOPE_LINK = 0x20;

/**
 * The IPv6 addresses of `name` that a URL can name, from the text of /proc/net/if_inet6 (Linux), as
 * `address/prefix` sorted: no link-local or host scope, and none still in duplicate address detection
 * (tentative: nothing can bind to it yet) or failed it. Node's own list has neither scope nor those flags.
 */
export function usableIpv6Addresses(procNetIfInet6: string, name: string): string[] {
  const out: string[] = [];
  for (const line of procNetIfInet6.split('\n')) {
    const [hex, , prefixHex, scopeHex, flagsHex, device] = line.trim().split(/\s+/);
    if (device !== name || !hex || hex.length !== 32 || !prefixHex || !scopeHex || !flagsHex) continue;
    const scope = Number.parseInt(scopeHex, 16);
    const flags = Number.parseInt(flagsHex, 16);
    if (scope === IPV6_SCOPE_LINK || scope === IPV6_SCOPE_HOST || flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED)) continue;
    const address = ipaddr.IPv6.parse(hex.match(/.{4}/g)!.join(':')).toRFC5952String();
    out.push(`${address}/${Number.parseInt(prefixHex, 16)}`);
  }
  return out.sort();
}

/**
 * The IPv6 address boot URLs name, given the one named so far and what the interface holds now
 * (`address/prefix` entries): the same while it is there — another address coming or going changes
 * nothing — else the first one left, else none.
 */
export function followUrlAddress6(current: string | undefined, addresses: readonly string[]): string | undefined {
  const held = addresses.map((entry) => entry.replace(/\/\d+$/, ''));
  if (current !== undefined && held.includes(current)) return current;
  return held[0];
}

function readIpv6(name: string): string[] {
  try {
    return usableIpv6Addresses(readFileSync('/proc/net/if_inet6', 'utf8'), name);
  } catch {
    // No /proc/net/if_inet6: IPv6 is off in this kernel (or this is not Linux), so there is none to name.
    return [];
  }
}

export interface InterfaceChange {
  readonly name: string;
  readonly previous: InterfaceState;
  readonly current: InterfaceState;
  /**
   * SO_BINDTODEVICE pins a socket to the interface *index*. A replugged USB adapter or a re-created
   * interface comes back under a new index and the old socket then hears nothing: close it and open a
   * new one. A cable pulled and plugged back on the same NIC keeps the index and the socket keeps working.
   */
  readonly needsNewSocket: boolean;
}

export function readInterfaceState(name: string): InterfaceState {
  const index = Number(readSys(name, 'ifindex'));
  if (!Number.isInteger(index) || index <= 0) return { present: false, up: false, operstate: 'absent', ipv4: [], ipv6: [] };
  const flags = Number.parseInt(readSys(name, 'flags') ?? '0', 16);
  const ipv4 = (networkInterfaces()[name] ?? [])
    .filter((entry) => entry.family === 'IPv4' && entry.cidr)
    .map((entry) => entry.cidr!)
    .sort();
  return { present: true, index, up: (flags & 0x1) !== 0, operstate: readSys(name, 'operstate') ?? 'unknown', ipv4, ipv6: readIpv6(name) };
}

/** Pure: what changed between two polls, or undefined when nothing did. */
export function compareInterfaceStates(
  name: string,
  previous: InterfaceState,
  current: InterfaceState,
): InterfaceChange | undefined {
  const same =
    previous.present === current.present &&
    previous.index === current.index &&
    previous.up === current.up &&
    previous.operstate === current.operstate &&
    previous.ipv4.join(' ') === current.ipv4.join(' ') &&
    previous.ipv6.join(' ') === current.ipv6.join(' ');
  if (same) return undefined;
  return { name, previous, current, needsNewSocket: current.present && current.index !== previous.index };
}

export interface InterfaceWatcher {
  /** The state seen at the last poll. */
  readonly state: () => InterfaceState;
  readonly close: () => void;
}

/**
 * Polls /sys/class/net/NAME (ifindex, flags, operstate), its IPv4 addresses and its usable global/ULA
 * IPv6 addresses every `intervalMs` (default 1 s) and calls `onChange` when any of them differs from the
 * previous poll. The timer does not
 * keep the process alive. Polling rather than netlink: no native dependency, and a second of delay
 * after a replug is nothing next to firmware's own DHCP retries.
 */
export function watchInterface(
  name: string,
  onChange: (change: InterfaceChange) => void,
  options: { readonly intervalMs?: number } = {},
): InterfaceWatcher {
  let last = readInterfaceState(name);
  const timer = setInterval(() => {
    const current = readInterfaceState(name);
    const change = compareInterfaceStates(name, last, current);
    last = current;
    if (change) onChange(change);
  }, options.intervalMs ?? 1000);
  timer.unref();
  return { state: () => last, close: () => clearInterval(timer) };
}
