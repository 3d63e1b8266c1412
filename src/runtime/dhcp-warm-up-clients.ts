/**
 * The machines the DHCP warm-up plays (dhcp-warm-up.ts): what a rack's firmware sends in a DISCOVER and a
 * REQUEST, varied the way real clients vary, so the code V8 compiles on them is the code real clients need.
 * Every MAC is locally administered (02:00:…) and every packet goes to a server on loopback.
 */
import { BROADCAST_FLAG, Option } from '../protocol/dhcp4/constants.js';
import { blankPacket, type DhcpPacket } from '../protocol/dhcp4/packet.js';
import { encode } from '../protocol/dhcp4/encode.js';

export type ClientKind = 'plain' | 'bios-pxe' | 'uefi-pxe' | 'ipxe';

/** What the firmware a rack holds sends: a PC without PXE, BIOS and UEFI PXE ROMs, and iPXE. */
export function clientKindOf(index: number, mode: 'proxy' | 'full'): ClientKind {
  // Proxy mode answers only network-boot clients; full mode answers everyone, most of them plain in a bench.
  const kinds: readonly ClientKind[] = mode === 'full' ? ['plain', 'plain', 'bios-pxe', 'uefi-pxe', 'ipxe'] : ['bios-pxe', 'uefi-pxe', 'ipxe'];
  return kinds[index % kinds.length]!;
}

/** The 16-byte chaddr field of machine `index`: a locally administered MAC (02:00:…), never a real machine's. */
function warmUpChaddr(index: number): Buffer {
  const chaddr = Buffer.alloc(16);
  chaddr[0] = 0x02;
  chaddr.writeUInt32BE(index >>> 0, 2);
  return chaddr;
}

/**
 * What else varies between real clients, each on its own cycle so the mixes meet: a relay agent in between
 * (giaddr set; the reply goes back to it), no maximum message size (option 57), a host name (option 12).
 * Code V8 compiled only on one variant is thrown away at the first client of the other.
 */
function variantOf(index: number): { readonly relayed: boolean; readonly maxMessageSize: boolean; readonly hostname: boolean } {
  return { relayed: index % 3 === 2, maxMessageSize: index % 7 < 4, hostname: index % 11 < 5 };
}

function identityOptions(kind: ClientKind, index: number): Array<[number, Buffer]> {
  const variant = variantOf(index);
  const options: Array<[number, Buffer]> = [[Option.PARAMETER_REQUEST_LIST, Buffer.from([1, 3, 6, 12, 15, 28, 42, 43, 60, 66, 67, 93, 128, 129])]];
  if (variant.maxMessageSize) options.push([Option.MAX_MESSAGE_SIZE, Buffer.from([0x05, 0xc0])]);
  if (variant.hostname) options.push([Option.HOSTNAME, Buffer.from(`bench-${index}`, 'latin1')]);
  if (kind === 'plain') return options;
  const arch = kind === 'uefi-pxe' ? 7 : 0;
  const uuid = Buffer.alloc(17);
  uuid.writeUInt32BE(index >>> 0, 13);
  options.push(
    [Option.VENDOR_CLASS, Buffer.from(`PXEClient:Arch:0000${arch}:UNDI:00${arch === 7 ? 3016 : 2001}`, 'latin1')],
    [Option.CLIENT_ARCH, Buffer.from([0, arch])],
    [Option.CLIENT_NDI, Buffer.from([1, arch === 7 ? 3 : 2, arch === 7 ? 16 : 1])],
    [Option.CLIENT_UUID, uuid],
  );
  if (kind === 'ipxe') {
    options.push([Option.USER_CLASS, Buffer.from('\x04iPXE', 'latin1')], [Option.IPXE, Buffer.from([0x13, 1, 1, 0x11, 1, 1, 0x10, 1, 2])]);
  }
  return options;
}

/** The relay agent the warm-up plays: its own client socket, on loopback. */
const RELAY_ADDRESS = '127.0.0.1';

/** The DISCOVER or REQUEST (`type`) machine `index` sends, with `extra` options (a REQUEST's address and server). */
export function clientRequest(kind: ClientKind, index: number, xid: number, type: number, extra: Array<[number, Buffer]> = []): Buffer {
  const relayed = variantOf(index).relayed;
  const packet: DhcpPacket = blankPacket({
    xid,
    flags: relayed ? 0 : BROADCAST_FLAG,
    ...(relayed && { hops: 1, giaddr: RELAY_ADDRESS }),
    chaddr: warmUpChaddr(index),
    options: new Map([[Option.MESSAGE_TYPE, Buffer.from([type])], ...extra, ...identityOptions(kind, index)]),
  });
  return encode(packet);
}
