/**
 * DHCPv4/BOOTP packets from bytes (RFC 2131, 2132), with option overload (52) and long options split across
 * several instances (RFC 3396); the packet's shape. `decode` follows dns-packet's shape; encode.ts writes.
 */
import {
  MAGIC_COOKIE,
  Option,
  OPTIONS_OFFSET,
  SNAME_OFFSET,
  SNAME_LENGTH,
  FILE_OFFSET,
  FILE_LENGTH,
  COOKIE_OFFSET,
  OVERLOAD_FILE,
  OVERLOAD_SNAME,
  optionLengthRules,
  optionNames,
} from './constants.js';
import { bytesToAddress } from './ipv4-address.js';

/** Options in the order they should appear; values are whole (RFC 3396 instances already concatenated). */
export type DhcpOptions = Map<number, Buffer>;

export interface DhcpPacket {
  op: number;
  htype: number;
  hlen: number;
  hops: number;
  xid: number;
  secs: number;
  flags: number;
  ciaddr: string;
  yiaddr: string;
  siaddr: string;
  giaddr: string;
  /** All 16 bytes of the client hardware address field. */
  chaddr: Buffer;
  /** BOOTP server name; empty when the field carried overloaded options. */
  sname: string;
  /** BOOTP boot file name; empty when the field carried overloaded options. */
  file: string;
  options: DhcpOptions;
}

export class DhcpDecodeError extends Error {
  constructor(
    readonly offset: number,
    detail: string,
  ) {
    super(`${detail} (at offset ${offset})`);
    this.name = 'DhcpDecodeError';
  }
}

/** Read in place (no views): sname and file are empty in most requests, and every request has both. */
function readCString(buf: Buffer, offset: number, length: number): string {
  let end = offset;
  while (end < offset + length && buf[end] !== 0) end += 1;
  return end === offset ? '' : buf.toString('latin1', offset, end);
}

/**
 * Reads one options area into `into`, concatenating the instances of a split option (RFC 3396) in the
 * order met; stops at END or at the area's end. Values are views into `buf` (a received datagram is never
 * reused), so decoding copies no option.
 */
function scanOptions(buf: Buffer, start: number, end: number, area: string, into: DhcpOptions): void {
  let offset = start;
  while (offset < end) {
    const code = buf[offset]!;
    if (code === Option.PAD) {
      offset += 1;
      continue;
    }
    if (code === Option.END) return;
    if (offset + 1 >= end) {
      throw new DhcpDecodeError(offset, `option ${code} in the ${area} has no length byte`);
    }
    const length = buf[offset + 1]!;
    if (offset + 2 + length > end) {
      throw new DhcpDecodeError(
        offset,
        `option ${code} in the ${area} claims ${length} bytes but only ${end - offset - 2} remain`,
      );
    }
    const value = buf.subarray(offset + 2, offset + 2 + length);
    const earlier = into.get(code);
    into.set(code, earlier ? Buffer.concat([earlier, value]) : value);
    offset += 2 + length;
  }
}

/** The overload option found inside an overloaded field, for the error message. */
function firstOverloadIn(buf: Buffer, areaStart: number): number {
  const areas: Array<[number, number]> = [[FILE_OFFSET, FILE_OFFSET + FILE_LENGTH], [SNAME_OFFSET, SNAME_OFFSET + SNAME_LENGTH]];
  for (const [start, end] of areas) {
    if (start < areaStart) continue;
    for (let offset = start; offset + 1 < end && buf[offset] !== Option.END; offset += buf[offset] === Option.PAD ? 1 : 2 + buf[offset + 1]!) {
      if (buf[offset] === Option.OVERLOAD) return offset;
    }
  }
  return areaStart;
}

/** Where option `code` first appears in `buf` (for an error message; decoding does not keep offsets). */
function firstOffset(buf: Buffer, code: number): number {
  const areas: Array<[number, number]> = [[OPTIONS_OFFSET, buf.length], [FILE_OFFSET, FILE_OFFSET + FILE_LENGTH], [SNAME_OFFSET, SNAME_OFFSET + SNAME_LENGTH]];
  for (const [start, end] of areas) {
    let offset = start;
    while (offset + 1 < end && buf[offset] !== Option.END) {
      if (buf[offset] === Option.PAD) {
        offset += 1;
        continue;
      }
      if (buf[offset] === code) return offset;
      offset += 2 + buf[offset + 1]!;
    }
  }
  return OPTIONS_OFFSET;
}

/**
 * Refuses an option whose length breaks its rule. `where` is its offset, or the packet, in which its first
 * instance is looked up only then (decoding keeps no offsets).
 */
function checkLength(code: number, length: number, where: number | Buffer): void {
  const rule = optionLengthRules[code];
  if (!rule) return;
  const name = optionNames[code] ?? `option ${code}`;
  if (length < rule.min || (rule.max !== undefined && length > rule.max) || (rule.multiple && length % rule.multiple !== 0)) {
    const expected =
      rule.max === rule.min
        ? `${rule.min}`
        : rule.multiple
          ? `a multiple of ${rule.multiple}, at least ${rule.min}`
          : `at least ${rule.min}`;
    throw new DhcpDecodeError(typeof where === 'number' ? where : firstOffset(where, code), `${name} (${code}) has length ${length}, expected ${expected}`);
  }
}

export function decode(buf: Uint8Array): DhcpPacket {
  const bytes = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (bytes.length < OPTIONS_OFFSET) {
    throw new DhcpDecodeError(bytes.length, `packet ends after ${bytes.length} bytes, before the 240-byte header and cookie`);
  }
  const cookie = bytes.readUInt32BE(COOKIE_OFFSET);
  if (cookie !== MAGIC_COOKIE) {
    throw new DhcpDecodeError(COOKIE_OFFSET, `bad magic cookie 0x${cookie.toString(16).padStart(8, '0')}`);
  }
  const op = bytes[0]!;
  if (op !== 1 && op !== 2) throw new DhcpDecodeError(0, `op ${op} is neither BOOTREQUEST (1) nor BOOTREPLY (2)`);
  const hlen = bytes[2]!;
  if (hlen > 16) throw new DhcpDecodeError(2, `hardware address length ${hlen} exceeds the 16-byte chaddr field`);

  const options: DhcpOptions = new Map();
  scanOptions(bytes, OPTIONS_OFFSET, bytes.length, 'options field', options);

  let overload = 0;
  const overloadValue = options.get(Option.OVERLOAD);
  if (overloadValue) {
    const at = firstOffset(bytes, Option.OVERLOAD);
    checkLength(Option.OVERLOAD, overloadValue.length, at);
    overload = overloadValue[0]!;
    if (overload < 1 || overload > 3) {
      throw new DhcpDecodeError(at, `overload (52) value ${overload} is not 1, 2 or 3`);
    }
    options.delete(Option.OVERLOAD);
    // RFC 3396 §5: the options field, then file, then sname, concatenated in that order.
    if (overload & OVERLOAD_FILE) scanOptions(bytes, FILE_OFFSET, FILE_OFFSET + FILE_LENGTH, 'file field', options);
    if (overload & OVERLOAD_SNAME) scanOptions(bytes, SNAME_OFFSET, SNAME_OFFSET + SNAME_LENGTH, 'sname field', options);
    if (options.has(Option.OVERLOAD)) {
      const loopArea = overload & OVERLOAD_FILE ? FILE_OFFSET : SNAME_OFFSET;
      throw new DhcpDecodeError(firstOverloadIn(bytes, loopArea), 'overload (52) inside an overloaded field would loop');
    }
  }
  options.forEach((value, code) => checkLength(code, value.length, bytes));

  return {
    op,
    htype: bytes[1]!,
    hlen,
    hops: bytes[3]!,
    xid: bytes.readUInt32BE(4),
    secs: bytes.readUInt16BE(8),
    flags: bytes.readUInt16BE(10),
    ciaddr: bytesToAddress(bytes, 12),
    yiaddr: bytesToAddress(bytes, 16),
    siaddr: bytesToAddress(bytes, 20),
    giaddr: bytesToAddress(bytes, 24),
    chaddr: bytes.subarray(28, 44),
    sname: overload & OVERLOAD_SNAME ? '' : readCString(bytes, SNAME_OFFSET, SNAME_LENGTH),
    file: overload & OVERLOAD_FILE ? '' : readCString(bytes, FILE_OFFSET, FILE_LENGTH),
    options,
  };
}

/** An empty packet with every field set, to build requests and replies from. */
export function blankPacket(fields: Partial<DhcpPacket> = {}): DhcpPacket {
  return {
    op: 1,
    htype: 1,
    hlen: 6,
    hops: 0,
    xid: 0,
    secs: 0,
    flags: 0,
    ciaddr: '0.0.0.0',
    yiaddr: '0.0.0.0',
    siaddr: '0.0.0.0',
    giaddr: '0.0.0.0',
    chaddr: Buffer.alloc(16),
    sname: '',
    file: '',
    options: new Map(),
    ...fields,
  };
}
