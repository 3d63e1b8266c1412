/**
 * Hostile datagrams for pxedeck's UDP servers, reproducible from a seed: random bytes, and real packets
 * mutated (bits flipped, bytes overwritten with edge values, truncated, cut and spliced, extended past any
 * sane size). The real packets are the DHCPv4/DHCPv6 captures from firmware in test/fixtures, TFTP
 * requests as iPXE, OVMF, PXELINUX and atftp send them, and syslog lines as iPXE, util-linux logger and
 * busybox send them. Source ports are mostly the client's own, some 0 (nothing can answer those) and some random.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { seededRandom } from './seeded-random.js';

export type FuzzTarget = 'dhcp4' | 'pxe4011' | 'dhcp6' | 'tftp' | 'syslog';

export interface FuzzDatagram {
  readonly target: FuzzTarget;
  readonly port: number;
  readonly sourcePort: number;
  readonly payload: Buffer;
  /** How it was made, for a failure message. */
  readonly how: string;
}

const fixtures = join(import.meta.dirname, '..', 'fixtures');

/** Client-to-server payloads captured from real firmware (the directory's hex files, server replies left out). */
function captured(dir: 'dhcp4' | 'dhcp6'): Buffer[] {
  return readdirSync(join(fixtures, dir))
    .filter((name) => name.endsWith('.hex') && !/(offer|ack|advertise|reply)-from/.test(name))
    .sort()
    .map((name) => Buffer.from(readFileSync(join(fixtures, dir, name), 'utf8').replace(/\s+/g, ''), 'hex'));
}

const tftpRequest = (opcode: 1 | 2, ...fields: string[]) => Buffer.concat([Buffer.from([0, opcode]), Buffer.from(`${fields.join('\0')}\0`, 'latin1')]);

const bases: Record<FuzzTarget, () => Buffer[]> = {
  dhcp4: () => captured('dhcp4'),
  pxe4011: () => captured('dhcp4'),
  dhcp6: () => captured('dhcp6'),
  tftp: () => [
    tftpRequest(1, 'undionly.kpxe', 'octet', 'tsize', '0', 'blksize', '1432'),
    tftpRequest(1, 'ipxe.efi', 'octet', 'blksize', '1468', 'windowsize', '4', 'tsize', '0'),
    tftpRequest(1, 'pxelinux.cfg/01-52-54-00-12-34-56', 'octet', 'blksize', '1408', 'tsize', '0'),
    tftpRequest(1, 'hello.txt', 'netascii', 'tsize', 'enable', 'timeout', '1'),
    tftpRequest(2, 'upload.bin', 'octet'),
    Buffer.from([0, 4, 0, 1]),
    Buffer.from([0, 3, 0, 1, 0x61, 0x62]),
    Buffer.concat([Buffer.from([0, 5, 0, 8]), Buffer.from('User aborted the transfer\0', 'latin1')]),
    Buffer.concat([Buffer.from([0, 6]), Buffer.from('blksize\x001432\0', 'latin1')]),
  ],
  syslog: () =>
    [
      '<6>ipxe: http://10.77.0.1/boot.ipxe... ok',
      '<3>node07.lab ipxe: Connection timed out (https://ipxe.org/4c0a6035)',
      '<156>Nov 25 14:14:12 vm mytag: hello 3164',
      '<30>Nov  5 09:01:02 udhcpc[212]: lease of 10.77.0.100 obtained\n',
      '<165>1 2026-11-25T14:14:12.345+00:00 vm app 123 ID47 [exampleSDID@32473 iut="3" eventSource="App"] BOMAn application event',
      '<13>Nov 25 14:14:12 vm x[18704]: multi\nline\n\n<11>ipxe: next\n',
    ].map((text) => Buffer.from(text, 'utf8')),
};

const clientPort: Record<FuzzTarget, number> = { dhcp4: 68, pxe4011: 68, dhcp6: 546, tftp: 2070, syslog: 514 };
const serverPort: Record<FuzzTarget, number> = { dhcp4: 67, pxe4011: 4011, dhcp6: 547, tftp: 69, syslog: 514 };

/** Byte values that tend to sit at boundaries of length and type fields. */
const EDGES = [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff];

/** The largest payload sent: over an Ethernet MTU (so it arrives fragmented) and far past any packet these protocols use. */
export const OVERSIZED_MAX = 9000;

export function fuzzDatagrams(target: FuzzTarget, count: number, seed: number): FuzzDatagram[] {
  const next = seededRandom(seed);
  const int = (below: number) => Math.floor(next() * below);
  const pick = <T>(list: readonly T[]): T => list[int(list.length)]!;
  const randomBytes = (length: number) => Buffer.from(Array.from({ length }, () => int(256)));
  const originals = bases[target]();

  const mutations: ReadonlyArray<readonly [string, (base: Buffer) => Buffer]> = [
    ['random bytes', () => randomBytes(int(600))],
    ['bits flipped', (base) => {
      const copy = Buffer.from(base);
      for (let flips = 1 + int(8); flips > 0 && copy.length > 0; flips -= 1) copy[int(copy.length)]! ^= 1 << int(8);
      return copy;
    }],
    ['edge bytes', (base) => {
      const copy = Buffer.from(base);
      for (let writes = 1 + int(6); writes > 0 && copy.length > 0; writes -= 1) copy[int(copy.length)] = pick(EDGES);
      return copy;
    }],
    ['truncated', (base) => base.subarray(0, int(base.length))],
    ['cut and spliced', (base) => Buffer.concat([base.subarray(0, int(base.length + 1)), pick(originals).subarray(int(base.length))])],
    ['bytes inserted', (base) => {
      const at = int(base.length + 1);
      return Buffer.concat([base.subarray(0, at), randomBytes(1 + int(64)), base.subarray(at)]);
    }],
    ['oversized', (base) => Buffer.concat([base, randomBytes(1500 + int(OVERSIZED_MAX - 1500 - base.length))])],
    ['empty', () => Buffer.alloc(0)],
  ];

  return Array.from({ length: count }, () => {
    const [how, mutate] = pick(mutations);
    const roll = next();
    const sourcePort = roll < 0.1 ? 0 : roll < 0.2 ? 1 + int(65535) : clientPort[target];
    return { target, port: serverPort[target], sourcePort, payload: mutate(pick(originals)), how };
  });
}
