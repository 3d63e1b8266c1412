/**
 * Which interface pxedeck serves on. A technician's laptop usually has a Wi-Fi (the office network, with
 * the default route) and a wired bench port: guessing wrong puts a DHCP server on the office network, so
 * we only pick by ourselves when exactly one interface could serve, and otherwise name them and ask.
 *
 * The reading half (sysfs, /proc/net/route, getifaddrs) is separate from the choosing half, which takes
 * a plain list so it can be tested without this machine's interfaces.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import ipaddr from '../../protocol/ipaddr.js';
import { parseMac, type Mac } from '../../protocol/mac.js';

export interface Ipv4Subnet {
  readonly address: string;
  readonly prefixLength: number;
  readonly netmask: string;
  readonly network: string;
  readonly broadcast: string;
}

export interface Ipv6Address {
  readonly address: string;
  readonly prefixLength: number;
}

export interface NetInterface {
  readonly name: string;
  readonly index?: number;
  readonly mac?: Mac;
  /** Administratively up (IFF_UP). */
  readonly up: boolean;
  /** /sys/class/net/NAME/operstate: up, down (no carrier), unknown (tun, some drivers), dormant… */
  readonly operstate: string;
  readonly loopback: boolean;
  readonly wireless: boolean;
  /** Holds an IPv4 or IPv6 default route: most likely the uplink (office / home network), not the bench. */
  readonly defaultRoute: boolean;
  readonly ipv4: readonly Ipv4Subnet[];
  readonly ipv6: readonly Ipv6Address[];
}

/** Network, broadcast and netmask of an interface address. */
export function ipv4Subnet(address: string, prefixLength: number): Ipv4Subnet {
  if (!ipaddr.IPv4.isValidFourPartDecimal(address)) throw new RangeError(`not an IPv4 address: ${address}`);
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > 32) {
    throw new RangeError(`not an IPv4 prefix length: ${prefixLength}`);
  }
  const cidr = `${address}/${prefixLength}`;
  return {
    address,
    prefixLength,
    netmask: ipaddr.IPv4.subnetMaskFromPrefixLength(prefixLength).toString(),
    network: ipaddr.IPv4.networkAddressFromCIDR(cidr).toString(),
    broadcast: ipaddr.IPv4.broadcastAddressFromCIDR(cidr).toString(),
  };
}

/** Whether `address` (IPv4) lies in the subnet. */
export function subnetContains(subnet: Ipv4Subnet, address: string): boolean {
  if (!ipaddr.IPv4.isValidFourPartDecimal(address)) return false;
  return ipaddr.IPv4.parse(address).match(ipaddr.IPv4.parse(subnet.network), subnet.prefixLength);
}

/** The interface whose IPv4 subnet contains `address`, with the matching subnet (longest prefix wins). */
export function interfaceForAddress(
  interfaces: readonly NetInterface[],
  address: string,
): { readonly iface: NetInterface; readonly subnet: Ipv4Subnet } | undefined {
  let best: { iface: NetInterface; subnet: Ipv4Subnet } | undefined;
  for (const iface of interfaces) {
    for (const subnet of iface.ipv4) {
      if (subnetContains(subnet, address) && (!best || subnet.prefixLength > best.subnet.prefixLength)) {
        best = { iface, subnet };
      }
    }
  }
  return best;
}

/** Interfaces holding an IPv4 default route, from the text of /proc/net/route. */
export function parseDefaultRouteInterfaces(procNetRoute: string): Set<string> {
  const names = new Set<string>();
  for (const line of procNetRoute.split('\n').slice(1)) {
    const [name, destination, , flags, , , , mask] = line.trim().split(/\s+/);
    if (!name || !flags || destination !== '00000000' || mask !== '00000000') continue;
    const RTF_UP = 0x1;
    if (Number.parseInt(flags, 16) & RTF_UP) names.add(name);
  }
  return names;
}

/** Interfaces holding an IPv6 default route (::/0), from the text of /proc/net/ipv6_route. */
export function parseDefaultRoute6Interfaces(procNetIpv6Route: string): Set<string> {
  const names = new Set<string>();
  for (const line of procNetIpv6Route.split('\n')) {
    // destination, its prefix length, source, its length, next hop, metric, refcnt, use, flags, device
    const fields = line.trim().split(/\s+/);
    const [destination, prefixLength] = fields;
    const flags = fields[8];
    const name = fields[9];
    if (!name || !flags || prefixLength !== '00' || !/^0{32}$/.test(destination ?? '') || name === 'lo') continue;
    const RTF_UP = 0x1;
    const RTF_REJECT = 0x200;
    const bits = Number.parseInt(flags, 16);
    if (bits & RTF_UP && !(bits & RTF_REJECT)) names.add(name);
  }
  return names;
}

/** Why this interface cannot serve, or undefined when it can. */
export function unusableReason(iface: NetInterface): string | undefined {
  if (iface.loopback) return 'it is the loopback interface';
  if (!iface.up) return `it is down (bring it up: ip link set ${iface.name} up)`;
  if (iface.ipv4.length === 0 && !hasUrlAddress6(iface)) {
    // Node lists no addresses for a link without carrier, configured or not: say what is really wrong.
    if (iface.operstate === 'down' || iface.operstate === 'lowerlayerdown') {
      return 'it has no link (no cable, or the switch port is off): plug it in and wait for the link to come up';
    }
    return (
      'it has no IPv4 address and no global or ULA IPv6 address (give it one, e.g. ' +
      `ip addr add 192.168.77.1/24 dev ${iface.name}, or for an IPv6-only bench ip addr add fd77::1/64 dev ${iface.name})`
    );
  }
  return undefined;
}

/** A global or ULA IPv6 address: one a boot URL can name (a link-local one cannot). */
export function hasUrlAddress6(iface: Pick<NetInterface, 'ipv6'>): boolean {
  return iface.ipv6.some((entry) => !entry.address.toLowerCase().startsWith('fe80:'));
}

export function isCandidate(iface: NetInterface): boolean {
  return unusableReason(iface) === undefined;
}

/** "wifi0 10.77.2.2/24, wireless, default route" — what the operator needs to tell the ports apart. */
export function describeInterface(iface: NetInterface): string {
  const parts = [iface.name];
  const addresses = [
    ...iface.ipv4.map((subnet) => `${subnet.address}/${subnet.prefixLength}`),
    ...(iface.ipv4.length === 0 ? iface.ipv6.filter((entry) => !entry.address.toLowerCase().startsWith('fe80:')).map((entry) => `${entry.address}/${entry.prefixLength}`) : []),
  ].join(' ');
  if (addresses) parts.push(addresses);
  const notes: string[] = [];
  if (iface.wireless) notes.push('wireless');
  if (iface.defaultRoute) notes.push('default route');
  if (iface.up && iface.operstate === 'down') notes.push('no cable/link');
  if (iface.mac) notes.push(iface.mac);
  return notes.length > 0 ? `${parts.join(' ')} (${notes.join(', ')})` : parts.join(' ');
}

export type InterfaceChoiceProblem = 'no-such-interface' | 'unusable' | 'none' | 'ambiguous' | 'uplink';

export class InterfaceChoiceError extends Error {
  override readonly name = 'InterfaceChoiceError';
  constructor(
    message: string,
    readonly problem: InterfaceChoiceProblem,
    readonly candidates: readonly NetInterface[],
  ) {
    super(message);
  }
}

function listForMessage(interfaces: readonly NetInterface[]): string {
  return interfaces.map((iface) => `  ${describeInterface(iface)}`).join('\n');
}

/**
 * The interface to serve on, from a list (pure). With `requested`: that interface, or an error saying why
 * not and which would do. Without: the only candidate, or an error naming them and asking for one.
 */
export function chooseFrom(interfaces: readonly NetInterface[], requested?: string): NetInterface {
  const candidates = interfaces.filter(isCandidate);
  const candidateText =
    candidates.length > 0 ? `Interfaces that could serve:\n${listForMessage(candidates)}` : 'No interface could serve.';
  if (requested !== undefined && requested !== '') {
    const iface = interfaces.find((entry) => entry.name === requested);
    if (!iface) {
      throw new InterfaceChoiceError(
        `There is no network interface named "${requested}". ${candidateText}`,
        'no-such-interface',
        candidates,
      );
    }
    const reason = unusableReason(iface);
    if (reason) {
      throw new InterfaceChoiceError(`Cannot serve on ${requested}: ${reason}. ${candidateText}`, 'unusable', candidates);
    }
    return iface;
  }
  if (candidates.length === 1) {
    const only = candidates[0]!;
    // Guessing is fine for a bench port; never for the uplink, where a boot server disturbs the whole network.
    if (!only.defaultRoute) return only;
    throw new InterfaceChoiceError(
      `The only interface that could serve, ${only.name}, holds the default route: usually the office or home network, ` +
        `where pxedeck must not answer. If it really is the bench switch, say so with --interface ${only.name}.\n${listForMessage(candidates)}`,
      'uplink',
      candidates,
    );
  }
  if (candidates.length === 0) {
    const others = interfaces.filter((iface) => !iface.loopback);
    const why = others.map((iface) => `  ${iface.name}: ${unusableReason(iface)}`).join('\n');
    throw new InterfaceChoiceError(
      'No interface is ready to serve: pxedeck needs one that is up, is not loopback and has an IPv4 address or a global/ULA IPv6 address.' +
        (why ? `\n${why}` : ' This machine has no network interface besides loopback.'),
      'none',
      candidates,
    );
  }
  const uplinks = candidates.filter((iface) => iface.defaultRoute).map((iface) => iface.name);
  const uplinkNote =
    uplinks.length > 0
      ? `\n${uplinks.join(', ')} ${uplinks.length === 1 ? 'holds' : 'hold'} the default route: usually the office or home network, not the bench.`
      : '';
  throw new InterfaceChoiceError(
    `Several interfaces could serve; choose one with --interface NAME.\n${listForMessage(candidates)}${uplinkNote}`,
    'ambiguous',
    candidates,
  );
}

/** /sys/class/net/NAME/FILE, trimmed; undefined when it cannot be read. */
export function readSys(name: string, file: string): string | undefined {
  try {
    return readFileSync(`/sys/class/net/${name}/${file}`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function readDefaultRouteInterfaces(): Set<string> {
  const read = (path: string, parse: (text: string) => Set<string>): Set<string> => {
    try {
      return parse(readFileSync(path, 'utf8'));
    } catch {
      return new Set();
    }
  };
  return new Set([...read('/proc/net/route', parseDefaultRouteInterfaces), ...read('/proc/net/ipv6_route', parseDefaultRoute6Interfaces)]);
}

/** Every interface of this network namespace, including loopback and down ones. */
export function listInterfaces(): NetInterface[] {
  const addresses = networkInterfaces();
  const defaultRoutes = readDefaultRouteInterfaces();
  let names: string[];
  try {
    names = readdirSync('/sys/class/net');
  } catch {
    // Not Linux: getifaddrs only knows interfaces with addresses, and we cannot see flags.
    names = Object.keys(addresses);
  }
  return names.sort().map((name): NetInterface => {
    const entries = addresses[name] ?? [];
    const flags = readSys(name, 'flags');
    const IFF_UP = 0x1;
    const IFF_LOOPBACK = 0x8;
    const flagBits = flags === undefined ? undefined : Number.parseInt(flags, 16);
    const index = Number(readSys(name, 'ifindex'));
    const sysMac = readSys(name, 'addr_len') === '6' ? readSys(name, 'address') : undefined;
    const mac = parseMac(sysMac ?? entries[0]?.mac ?? '');
    return {
      name,
      ...(Number.isInteger(index) && index > 0 && { index }),
      ...(mac && mac !== '00:00:00:00:00:00' && { mac }),
      up: flagBits === undefined ? entries.length > 0 : (flagBits & IFF_UP) !== 0,
      operstate: readSys(name, 'operstate') ?? 'unknown',
      loopback: flagBits === undefined ? entries.some((entry) => entry.internal) : (flagBits & IFF_LOOPBACK) !== 0,
      wireless: existsSync(`/sys/class/net/${name}/wireless`) || existsSync(`/sys/class/net/${name}/phy80211`),
      defaultRoute: defaultRoutes.has(name),
      ipv4: entries
        .filter((entry) => entry.family === 'IPv4' && entry.cidr)
        .map((entry) => ipv4Subnet(entry.address, Number(entry.cidr!.split('/')[1]))),
      ipv6: entries
        .filter((entry) => entry.family === 'IPv6' && entry.cidr)
        .map((entry) => ({ address: entry.address, prefixLength: Number(entry.cidr!.split('/')[1]) })),
    };
  });
}

/** Interfaces that are up, not loopback and have an IPv4 address. */
export function listCandidateInterfaces(): NetInterface[] {
  return listInterfaces().filter(isCandidate);
}

/** `--interface NAME` (or nothing) → the interface to serve on, or an InterfaceChoiceError meant for the operator. */
export function chooseInterface(requested?: string): NetInterface {
  return chooseFrom(listInterfaces(), requested);
}
