/**
 * The bench interface pxedeck serves: its addresses and how to open a UDP socket pinned to it. Loopback is
 * the development and test case: no broadcast, replies go back to 127.0.0.1.
 */
import type { Socket } from 'node:dgram';
import type { Mac } from '../protocol/mac.js';
import { openDeviceUdpSocket, openUdpSocket } from '../servers/net/device-socket.js';
import { chooseInterface, type Ipv6Address } from '../servers/net/interfaces.js';
import { StartupError } from './operator-error.js';

/** The interface's IPv4 side: what DHCPv4, the PXE boot server and the IPv4 listeners need. */
export interface Served4 {
  readonly address: string;
  readonly subnet: string;
  readonly broadcast: string;
  readonly netmask: string;
  /** Loopback has no broadcast: replies go back to 127.0.0.1 (development and tests). */
  readonly replyBroadcast: string;
}

export interface Served {
  readonly name: string;
  /**
   * The address the console shows and boot URLs name by default: the IPv4 one, or on an IPv6-only interface its
   * first global/ULA IPv6 address.
   */
  readonly serverAddress: string;
  /** Absent on an IPv6-only interface: DHCPv4, the PXE boot server (4011) and the IPv4 listeners do not apply. */
  readonly ipv4?: Served4;
  readonly mac?: Mac;
  /** The interface's IPv6 addresses (link-local included); empty on loopback. */
  readonly ipv6: readonly Ipv6Address[];
  /** A UDP socket pinned to the interface (DHCPv4 and its reply observer). */
  readonly openSocket: (port: number) => Promise<Socket>;
  /** The interface holds the default route: most likely the office or home network, not a bench switch. */
  readonly defaultRoute: boolean;
}

/**
 * 4 MiB for the DHCP and PXE server sockets: at 8,000 datagrams/s (4,000 DORA/s) a 100 ms pause of the event
 * loop is 800 datagrams, ~1.5 MiB of kernel buffer; the 208 KiB default dropped them (bench:dhcp's buffer drops).
 */
const SERVER_RECEIVE_BUFFER = 4 * 1024 * 1024;

export function servedInterface(name: string | undefined): Served {
  if (name === 'lo') {
    return {
      name: 'lo',
      serverAddress: '127.0.0.1',
      ipv4: { address: '127.0.0.1', subnet: '127.0.0.0/8', broadcast: '127.255.255.255', netmask: '255.0.0.0', replyBroadcast: '127.0.0.1' },
      ipv6: [],
      openSocket: (port) => openUdpSocket({ address: '127.0.0.1', port }),
      defaultRoute: false,
    };
  }
  // chooseInterface refuses an interface with neither an IPv4 nor a global/ULA IPv6 address, saying so.
  const iface = chooseInterface(name);
  const ipv4 = iface.ipv4[0];
  const address6 = iface.ipv6.find((entry) => !entry.address.toLowerCase().startsWith('fe80:'))?.address;
  const serverAddress = ipv4?.address ?? address6;
  if (!serverAddress) throw new StartupError(`${iface.name} has no IPv4 address and no global or ULA IPv6 address; fix: give it one (ip addr add 10.0.0.1/24 dev ${iface.name})`);
  return {
    name: iface.name,
    serverAddress,
    ...(ipv4 && {
      ipv4: { address: ipv4.address, subnet: `${ipv4.network}/${ipv4.prefixLength}`, broadcast: ipv4.broadcast, netmask: ipv4.netmask, replyBroadcast: '255.255.255.255' },
    }),
    ...(iface.mac && { mac: iface.mac }),
    ipv6: iface.ipv6,
    openSocket: (port) => openDeviceUdpSocket({ device: iface.name, port, receiveBufferBytes: SERVER_RECEIVE_BUFFER }),
    defaultRoute: iface.defaultRoute,
  };
}

/** The served interface's IPv4 address, or 0.0.0.0 when it has none or cannot be served now (for dry runs such as explain). */
export function servedAddressOrAny(interfaceName: string): string {
  try {
    return servedInterface(interfaceName).ipv4?.address ?? '0.0.0.0';
  } catch {
    return '0.0.0.0';
  }
}

/** A pool suggestion on the interface's /24, for the fix text of a missing or foreign --pool. */
export function suggestPool(served4: Served4): string {
  const [a, b, c] = served4.address.split('.');
  return `${a}.${b}.${c}.100-${a}.${b}.${c}.199`;
}

/** The base of every URL machines are given: `http://ADDRESS[:PORT]`, IPv6 in brackets. */
export function httpBaseOf(address: string, httpPort: number): string {
  const host = address.includes(':') ? `[${address}]` : address;
  return `http://${host}${httpPort === 80 ? '' : `:${httpPort}`}`;
}
