// Reads the UDP datagrams out of a tcpdump -w file (classic pcap, Ethernet), and a minimal DHCPv4 view
// for the lab's own bookkeeping. The project's real codec lives in src/protocol; this only needs
// enough to find packets (message type, xid, option codes) and must not depend on the code under test.
import { readFileSync } from 'node:fs';

export type UdpDatagram = {
  /** Capture time in ms since the epoch (microsecond precision). */
  time: number;
  srcMac: string;
  dstMac: string;
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  payload: Buffer;
};

const macText = (b: Buffer) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');

/** Parses complete records only, so it is safe on a file tcpdump is still writing with -U. */
export function readPcapUdp(file: string): UdpDatagram[] {
  const buf = readFileSync(file);
  if (buf.length < 24) return [];
  const magic = buf.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const nanos = magic === 0xa1b23c4d || magic === 0x4d3cb2a1;
  if (!le && magic !== 0xd4c3b2a1 && magic !== 0x4d3cb2a1) throw new Error(`${file}: not a pcap file`);
  const u32 = (off: number) => (le ? buf.readUInt32LE(off) : buf.readUInt32BE(off));
  const linkType = u32(20);
  if (linkType !== 1) throw new Error(`${file}: link type ${linkType}, expected Ethernet (1)`);
  const out: UdpDatagram[] = [];
  let off = 24;
  while (off + 16 <= buf.length) {
    const sec = u32(off);
    const frac = u32(off + 4);
    const incl = u32(off + 8);
    if (off + 16 + incl > buf.length) break;
    const frame = buf.subarray(off + 16, off + 16 + incl);
    off += 16 + incl;
    let l3 = 14;
    let etherType = frame.length >= 14 ? frame.readUInt16BE(12) : 0;
    if (etherType === 0x8100 && frame.length >= 18) {
      etherType = frame.readUInt16BE(16);
      l3 = 18;
    }
    if (etherType !== 0x0800 || frame.length < l3 + 20) continue;
    const ihl = (frame[l3]! & 0x0f) * 4;
    if (frame[l3 + 9] !== 17) continue;
    const fragment = frame.readUInt16BE(l3 + 6) & 0x3fff;
    if (fragment !== 0) continue;
    const udp = l3 + ihl;
    if (frame.length < udp + 8) continue;
    const udpLen = frame.readUInt16BE(udp + 4);
    out.push({
      time: sec * 1000 + (nanos ? frac / 1e6 : frac / 1e3),
      dstMac: macText(frame.subarray(0, 6)),
      srcMac: macText(frame.subarray(6, 12)),
      srcIp: [...frame.subarray(l3 + 12, l3 + 16)].join('.'),
      dstIp: [...frame.subarray(l3 + 16, l3 + 20)].join('.'),
      srcPort: frame.readUInt16BE(udp),
      dstPort: frame.readUInt16BE(udp + 2),
      payload: Buffer.from(frame.subarray(udp + 8, Math.min(frame.length, udp + udpLen))),
    });
  }
  return out;
}

export const dhcpMessageTypes = {
  1: 'DISCOVER',
  2: 'OFFER',
  3: 'REQUEST',
  4: 'DECLINE',
  5: 'ACK',
  6: 'NAK',
  7: 'RELEASE',
  8: 'INFORM',
} as const;

export type DhcpMessageType = (typeof dhcpMessageTypes)[keyof typeof dhcpMessageTypes];

export type DhcpView = {
  op: number;
  xid: number;
  secs: number;
  broadcast: boolean;
  ciaddr: string;
  yiaddr: string;
  siaddr: string;
  chaddr: string;
  sname: string;
  file: string;
  messageType: DhcpMessageType | undefined;
  /** In wire order; a code repeated on the wire appears repeatedly. */
  options: { code: number; data: Buffer }[];
};

const ip = (b: Buffer, off: number) => [...b.subarray(off, off + 4)].join('.');
const cString = (b: Buffer) => {
  const end = b.indexOf(0);
  return b.subarray(0, end < 0 ? b.length : end).toString('latin1');
};

/** Lenient: returns undefined for anything that is not a BOOTP packet with the DHCP cookie. */
export function viewDhcp(payload: Buffer): DhcpView | undefined {
  if (payload.length < 240 || payload.readUInt32BE(236) !== 0x63825363) return undefined;
  const options: { code: number; data: Buffer }[] = [];
  let off = 240;
  while (off < payload.length) {
    const code = payload[off]!;
    if (code === 255) break;
    if (code === 0) {
      off += 1;
      continue;
    }
    const len = payload[off + 1];
    if (len === undefined || off + 2 + len > payload.length) break;
    options.push({ code, data: Buffer.from(payload.subarray(off + 2, off + 2 + len)) });
    off += 2 + len;
  }
  const type = options.find((o) => o.code === 53)?.data[0];
  const hlen = Math.min(payload[2]!, 16);
  return {
    op: payload[0]!,
    xid: payload.readUInt32BE(4),
    secs: payload.readUInt16BE(8),
    broadcast: (payload.readUInt16BE(10) & 0x8000) !== 0,
    ciaddr: ip(payload, 12),
    yiaddr: ip(payload, 16),
    siaddr: ip(payload, 20),
    chaddr: macText(payload.subarray(28, 28 + hlen)),
    sname: cString(payload.subarray(44, 108)),
    file: cString(payload.subarray(108, 236)),
    messageType: type === undefined ? undefined : (dhcpMessageTypes as Record<number, DhcpMessageType>)[type],
    options,
  };
}

export type DhcpDatagram = UdpDatagram & { dhcp: DhcpView };

export function dhcpDatagrams(datagrams: readonly UdpDatagram[]): DhcpDatagram[] {
  return datagrams.flatMap((d) => {
    if (![67, 68, 4011].includes(d.srcPort) && ![67, 68, 4011].includes(d.dstPort)) return [];
    const dhcp = viewDhcp(d.payload);
    return dhcp ? [{ ...d, dhcp }] : [];
  });
}
