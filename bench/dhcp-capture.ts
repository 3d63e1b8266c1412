/**
 * `bench:dhcp --capture`: how late each answer left the server, timed on the server's own interface, beside
 * how late perfdhcp read it. perfdhcp stamps a reply when it reads it, on a core it shares with this script and
 * the client side's kernel work; when that core is busy, an answer the server sent in time counts as late there.
 * tcpdump in the server's namespace stamps a DISCOVER as it arrives and the OFFER as it leaves (in the kernel,
 * both on the server's veth), so the two percentiles side by side say which side a tail belongs to.
 *
 * The capture is not free: the kernel clones each packet to tcpdump's socket, ~1 µs per packet on the core that
 * sends or receives it; tcpdump itself runs on the client's core. Off by default for that reason.
 */
import { readFileSync } from 'node:fs';
import type { NetnsLab, NsProcess } from '../test/support/netns.js';
import { sleep } from '../test/support/netns.js';
import { lateBySecond, percentile } from './latency-stats.js';

/** Ethernet (14) + IPv4 (20, no options from these peers) + UDP (8) + BOOTP up to option 53 in the first options. */
const SNAP_BYTES = 400;
const BOOTP_AT = 14 + 20 + 8;
const MAGIC_COOKIE = 0x63825363;
/** A classic pcap file's first word: stamps in microseconds, or in nanoseconds (either byte order). */
const PCAP_MICROS = 0xa1b2c3d4;
const PCAP_NANOS = 0xa1b23c4d;

export interface WireLatency {
  /** DISCOVERs seen arriving, OFFERs seen leaving that matched one. */
  readonly discovers: number;
  readonly offers: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** Offers later than `lateMs` after their DISCOVER arrived, per second of the run. */
  readonly lateBySecond: readonly number[];
  /** What tcpdump said the kernel dropped before it could read them (then the figures miss packets). */
  readonly droppedByKernel: number;
}

export interface Capture {
  stop(lateMs: number): Promise<WireLatency>;
}

/** Starts tcpdump on `iface` in `ns`, pinned to `cpu`; `stop` ends it and reads what it caught. */
export async function startCapture(lab: NetnsLab, ns: string, iface: string, file: string, cpu: number | undefined): Promise<Capture> {
  const args = ['-i', iface, '-n', '-s', String(SNAP_BYTES), '-B', '16384', '-w', file, 'udp port 67'];
  const proc: NsProcess = cpu === undefined ? lab.spawn(ns, 'tcpdump', args, 'tcpdump') : lab.spawn(ns, 'taskset', ['-c', String(cpu), 'tcpdump', ...args], 'tcpdump');
  const deadline = Date.now() + 5000;
  while (!/listening on/.test(proc.stderr) && !proc.hasExited && Date.now() < deadline) await sleep(20);
  if (proc.hasExited || !/listening on/.test(proc.stderr)) throw new Error(`tcpdump did not start: ${proc.tail()}`);
  return {
    async stop(lateMs) {
      await proc.stop('SIGINT', 5000);
      const dropped = /(\d+) packets? dropped by kernel/.exec(proc.stderr);
      return { ...wireLatency(readFileSync(file), lateMs), droppedByKernel: dropped ? Number(dropped[1]) : Number.NaN };
    },
  };
}

interface Packet {
  readonly time: number;
  readonly xid: number;
  readonly type: number;
}

/** The DHCP packets of a classic pcap file (Ethernet): arrival time in seconds, xid, message type. */
export function dhcpPackets(pcap: Buffer): Packet[] {
  if (pcap.length < 24) return [];
  const little = [PCAP_MICROS, PCAP_NANOS].includes(pcap.readUInt32LE(0));
  const magic = little ? pcap.readUInt32LE(0) : pcap.readUInt32BE(0);
  if (magic !== PCAP_MICROS && magic !== PCAP_NANOS) throw new Error('not a pcap file');
  const nanos = magic === PCAP_NANOS;
  const u32 = (at: number) => (little ? pcap.readUInt32LE(at) : pcap.readUInt32BE(at));
  const packets: Packet[] = [];
  for (let at = 24; at + 16 <= pcap.length; ) {
    const time = u32(at) + u32(at + 4) / (nanos ? 1e9 : 1e6);
    const captured = u32(at + 8);
    const data = pcap.subarray(at + 16, at + 16 + captured);
    at += 16 + captured;
    const type = messageType(data);
    if (type !== undefined) packets.push({ time, xid: data.readUInt32BE(BOOTP_AT + 4), type });
  }
  return packets;
}

function messageType(frame: Buffer): number | undefined {
  const options = BOOTP_AT + 240;
  if (frame.length < options || frame.readUInt16BE(12) !== 0x0800 || frame.readUInt32BE(BOOTP_AT + 236) !== MAGIC_COOKIE) return undefined;
  for (let at = options; at + 1 < frame.length; ) {
    const code = frame[at]!;
    if (code === 0) {
      at += 1;
      continue;
    }
    if (code === 255) return undefined;
    if (code === 53) return frame[at + 2];
    at += 2 + frame[at + 1]!;
  }
  return undefined;
}

/** DISCOVER in → OFFER out, matched by xid (perfdhcp's are unique within a run). */
export function wireLatency(pcap: Buffer, lateMs: number): Omit<WireLatency, 'droppedByKernel'> {
  const packets = dhcpPackets(pcap);
  const arrived = new Map<number, number>();
  const answered: (readonly [sentSeconds: number, delayMs: number])[] = [];
  const first = packets.find((packet) => packet.type === 1)?.time ?? 0;
  let discovers = 0;
  for (const packet of packets) {
    if (packet.type === 1) {
      discovers += 1;
      if (!arrived.has(packet.xid)) arrived.set(packet.xid, packet.time);
    } else if (packet.type === 2) {
      const sent = arrived.get(packet.xid);
      if (sent === undefined) continue;
      arrived.delete(packet.xid);
      answered.push([sent, (packet.time - sent) * 1000]);
    }
  }
  const delays = answered.map(([, ms]) => ms).sort((a, b) => a - b);
  return {
    discovers,
    offers: delays.length,
    p50: percentile(delays, 50),
    p99: percentile(delays, 99),
    max: delays.at(-1) ?? Number.NaN,
    lateBySecond: lateBySecond(answered, first, lateMs),
  };
}
