/**
 * The bench interface pxedeck serves: its addresses and how to open a UDP socket pinned to it. Loopback is
 * the development and test case: no broadcast, replies go back to 127.0.0.1.
 */
import type { Socket } from 'node:dgram';
import type { Mac } from '../protocol/mac.js';
import { openDeviceUdpSocket, openUdpSocket } from '../servers/net/device-socket.js';
import { chooseInterface, type Ipv6Address } from '../servers/net/interfaces.js';
import { StartupError } from './operator-error.js';

export interface Served {
  readonly name: string;
  readonly serverAddress: string;
  readonly subnet: string;
  readonly broadcast: string;
  readonly netmask: string;
  readonly mac?: Mac;
  /** The interface's IPv6 addresses (link-local included); empty on loopback. */
  readonly ipv6: readonly Ipv6Address[];
  readonly openSocket: (port: number) => Promise<Socket>;
  /** Loopback has no broadcast: replies go back to 127.0.0.1 (development and tests). */
  readonly replyBroadcast: string;
  /** The interface holds the default route: most likely the office or home network, not a bench switch. */
  readonly defaultRoute: boolean;
}

export function servedInterface(name: string | undefined): Served {
  if (name === 'lo') {
    return {
      name: 'lo',
      serverAddress: '127.0.0.1',
      subnet: '127.0.0.0/8',
      broadcast: '127.255.255.255',
      netmask: '255.0.0.0',
      ipv6: [],
      openSocket: (port) => openUdpSocket({ address: '127.0.0.1', port }),
      replyBroadcast: '127.0.0.1',
      defaultRoute: false,
    };
  }
  const iface = chooseInterface(name);
  const ipv4 = iface.ipv4[0];
  if (!ipv4) throw new StartupError(`${iface.name} has no IPv4 address; fix: give it one (ip addr add 10.0.0.1/24 dev ${iface.name})`);
  return {
    name: iface.name,
    serverAddress: ipv4.address,
    subnet: `${ipv4.network}/${ipv4.prefixLength}`,
    broadcast: ipv4.broadcast,
    netmask: ipv4.netmask,
    ...(iface.mac && { mac: iface.mac }),
    ipv6: iface.ipv6,
    openSocket: (port) => openDeviceUdpSocket({ device: iface.name, port }),
    replyBroadcast: '255.255.255.255',
    defaultRoute: iface.defaultRoute,
  };
}

/** The served interface's IPv4 address, or 0.0.0.0 when it cannot be served now (for dry runs such as explain). */
export function servedAddressOrAny(interfaceName: string): string {
  try {
    return servedInterface(interfaceName).serverAddress;
  } catch {
    return '0.0.0.0';
  }
}

/** A pool suggestion on the interface's /24, for the fix text of a missing or foreign --pool. */
export function suggestPool(served: Served): string {
  const [a, b, c] = served.serverAddress.split('.');
  return `${a}.${b}.${c}.100-${a}.${b}.${c}.199`;
}

/** The base of every URL machines are given: `http://ADDRESS[:PORT]`, IPv6 in brackets. */
export function httpBaseOf(address: string, httpPort: number): string {
  const host = address.includes(':') ? `[${address}]` : address;
  return `http://${host}${httpPort === 80 ? '' : `:${httpPort}`}`;
}
