/**
 * DHCPv4/BOOTP packets both ways (RFC 2131, 2132), with option overload (52) and long options split
 * across several instances (RFC 3396). `encode`, `decode` and `encodingLength` follow dns-packet's shape.
 */
import {
  BOOTP_MINIMUM_SIZE,
  DEFAULT_MAX_MESSAGE_SIZE,
  MAGIC_COOKIE,
  Option,
  OPTIONS_OFFSET,
  optionLengthRules,
  optionNames,
} from './constants.js';

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

const SNAME_OFFSET = 44;
const SNAME_LENGTH = 64;
const FILE_OFFSET = 108;
const FILE_LENGTH = 128;
const COOKIE_OFFSET = 236;
const OVERLOAD_FILE = 1;
const OVERLOAD_SNAME = 2;

/** Most address fields of a request are empty: one shared string for them instead of a new one each. */
const UNSPECIFIED = '0.0.0.0';

function readAddress(buf: Uint8Array, offset: number): string {
  const a = buf[offset]!;
  const b = buf[offset + 1]!;
  const c = buf[offset + 2]!;
  const d = buf[offset + 3]!;
  return (a | b | c | d) === 0 ? UNSPECIFIED : `${a}.${b}.${c}.${d}`;
}

/** A dotted quad as a 32-bit number, NaN when it is not one (no split, no regex: every packet needs a few). */
export function ipv4ToNumber(address: string): number {
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < address.length; i += 1) {
    const code = address.charCodeAt(i);
    if (code === 46 && digits > 0 && dots < 3) {
      value = value * 256 + part;
      part = 0;
      digits = 0;
      dots += 1;
    } else if (code >= 48 && code <= 57 && digits < 3) {
      part = part * 10 + (code - 48);
      digits += 1;
      if (part > 255) return Number.NaN;
    } else return Number.NaN;
  }
  return dots === 3 && digits > 0 ? value * 256 + part : Number.NaN;
}

function writeAddress(buf: Buffer, address: string, offset: number): void {
  const value = ipv4ToNumber(address);
  if (Number.isNaN(value)) throw new TypeError(`not an IPv4 address: ${JSON.stringify(address)}`);
  buf.writeUInt32BE(value, offset);
}

export function addressToBytes(address: string): Buffer {
  const buf = Buffer.allocUnsafe(4);
  writeAddress(buf, address, 0);
  return buf;
}

export function bytesToAddress(bytes: Uint8Array, offset = 0): string {
  return readAddress(bytes, offset);
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
    ciaddr: readAddress(bytes, 12),
    yiaddr: readAddress(bytes, 16),
    siaddr: readAddress(bytes, 20),
    giaddr: readAddress(bytes, 24),
    chaddr: bytes.subarray(28, 44),
    sname: overload & OVERLOAD_SNAME ? '' : readCString(bytes, SNAME_OFFSET, SNAME_LENGTH),
    file: overload & OVERLOAD_FILE ? '' : readCString(bytes, FILE_OFFSET, FILE_LENGTH),
    options,
  };
}

export interface EncodeOptions {
  /** The largest DHCP message the receiver takes (its option 57, else 576 bytes of IP datagram). */
  readonly maxMessageSize?: number;
  /** Pad replies up to this size (BOOTP's 300 bytes by default). */
  readonly minimumSize?: number;
}

/** Option 53 first (some PXE ROMs look for it there), then the rest in insertion order; each split at 255. */
function serializeOptions(options: DhcpOptions): Buffer[] {
  const ordered = [...options].sort(([a], [b]) => Number(b === Option.MESSAGE_TYPE) - Number(a === Option.MESSAGE_TYPE));
  const pieces: Buffer[] = [];
  for (const [code, value] of ordered) {
    if (code === Option.PAD || code === Option.END || code === Option.OVERLOAD) {
      throw new RangeError(`option ${code} is framing, not content: it cannot be set`);
    }
    if (code < 0 || code > 255 || !Number.isInteger(code)) throw new RangeError(`option code ${code} is out of range`);
    if (value.length === 0) {
      pieces.push(Buffer.from([code, 0]));
      continue;
    }
    for (let start = 0; start < value.length; start += 255) {
      const chunk = value.subarray(start, start + 255);
      pieces.push(Buffer.concat([Buffer.from([code, chunk.length]), chunk]));
    }
  }
  return pieces;
}

interface Layout {
  readonly main: Buffer[];
  readonly file: Buffer[] | null;
  readonly sname: Buffer[] | null;
  readonly length: number;
}

/** Fills the options field first; what does not fit goes into file, then sname, when those are free. */
function layout(packet: DhcpPacket, settings: EncodeOptions): Layout {
  const pieces = serializeOptions(packet.options);
  const limit = Math.max(settings.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE, DEFAULT_MAX_MESSAGE_SIZE) - 28;
  const minimum = settings.minimumSize ?? BOOTP_MINIMUM_SIZE;
  const total = pieces.reduce((sum, piece) => sum + piece.length, 0);
  const plainLength = OPTIONS_OFFSET + total + 1;
  if (plainLength <= limit) return { main: pieces, file: null, sname: null, length: Math.max(plainLength, minimum) };

  // Reserve 3 bytes for the overload option and 1 for END in the options field.
  const mainRoom = limit - OPTIONS_OFFSET - 4;
  const areas = [
    { pieces: [] as Buffer[], room: mainRoom, used: 0, open: true },
    { pieces: [] as Buffer[], room: FILE_LENGTH - 1, used: 0, open: !packet.file },
    { pieces: [] as Buffer[], room: SNAME_LENGTH - 1, used: 0, open: !packet.sname },
  ];
  // Areas fill strictly in order so the pieces of a split option concatenate back in order (RFC 3396).
  let current = 0;
  for (const piece of pieces) {
    while (current < areas.length && (!areas[current]!.open || areas[current]!.used + piece.length > areas[current]!.room)) {
      current += 1;
    }
    const area = areas[current];
    if (!area) throw new RangeError(`options need ${total} bytes and do not fit a ${limit}-byte message even with overload`);
    area.pieces.push(piece);
    area.used += piece.length;
  }
  const [main, file, sname] = areas as [(typeof areas)[0], (typeof areas)[0], (typeof areas)[0]];
  const length = Math.max(OPTIONS_OFFSET + main.used + 4, minimum);
  return {
    main: main.pieces,
    file: file.pieces.length ? file.pieces : null,
    sname: sname.pieces.length ? sname.pieces : null,
    length,
  };
}

export function encodingLength(packet: DhcpPacket, settings: EncodeOptions = {}): number {
  return layout(packet, settings).length;
}

function writeField(buf: Buffer, text: string, offset: number, length: number, name: string): void {
  // latin1: one byte per character.
  if (text.length >= length) throw new RangeError(`${name} ${JSON.stringify(text)} is longer than ${length - 1} bytes`);
  buf.write(text, offset, 'latin1');
}

function writePieces(buf: Buffer, pieces: readonly Buffer[], offset: number): number {
  let at = offset;
  for (const piece of pieces) {
    piece.copy(buf, at);
    at += piece.length;
  }
  buf[at] = Option.END;
  return at + 1;
}

/** The wire length of the options written plainly (each split at 255 bytes), END included; throws on framing codes. */
function plainOptionsLength(options: DhcpOptions): number {
  let length = 1;
  // forEach, not for…of: no [code, value] pair allocated per option of every reply.
  options.forEach((value, code) => {
    if (code === Option.PAD || code === Option.END || code === Option.OVERLOAD) {
      throw new RangeError(`option ${code} is framing, not content: it cannot be set`);
    }
    if (code < 0 || code > 255 || !Number.isInteger(code)) throw new RangeError(`option code ${code} is out of range`);
    length += value.length === 0 ? 2 : value.length + 2 * Math.ceil(value.length / 255);
  });
  return length;
}

function writeOption(buf: Buffer, code: number, value: Buffer, at: number): number {
  if (value.length === 0) {
    buf[at] = code;
    buf[at + 1] = 0;
    return at + 2;
  }
  for (let start = 0; start < value.length; start += 255) {
    const length = Math.min(255, value.length - start);
    buf[at] = code;
    buf[at + 1] = length;
    value.copy(buf, at + 2, start, start + length);
    at += 2 + length;
  }
  return at;
}

function writeHeader(buf: Buffer, packet: DhcpPacket): void {
  buf[0] = packet.op;
  buf[1] = packet.htype;
  buf[2] = packet.hlen;
  buf[3] = packet.hops;
  buf.writeUInt32BE(packet.xid >>> 0, 4);
  buf.writeUInt16BE(packet.secs, 8);
  buf.writeUInt16BE(packet.flags, 10);
  writeAddress(buf, packet.ciaddr, 12);
  writeAddress(buf, packet.yiaddr, 16);
  writeAddress(buf, packet.siaddr, 20);
  writeAddress(buf, packet.giaddr, 24);
  packet.chaddr.copy(buf, 28, 0, 16);
  if (packet.sname) writeField(buf, packet.sname, SNAME_OFFSET, SNAME_LENGTH, 'sname');
  if (packet.file) writeField(buf, packet.file, FILE_OFFSET, FILE_LENGTH, 'file');
  buf.writeUInt32BE(MAGIC_COOKIE, COOKIE_OFFSET);
}

export function encode(packet: DhcpPacket, settings: EncodeOptions = {}): Buffer {
  // Every reply pxedeck builds fits the options field: written straight into one buffer, option 53 first.
  const limit = Math.max(settings.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE, DEFAULT_MAX_MESSAGE_SIZE) - 28;
  const plain = OPTIONS_OFFSET + plainOptionsLength(packet.options);
  if (plain <= limit) {
    // From the shared pool (a reply is sent and dropped), zeroed: unused header fields and padding are zeros.
    const buf = Buffer.allocUnsafe(Math.max(plain, settings.minimumSize ?? BOOTP_MINIMUM_SIZE)).fill(0);
    writeHeader(buf, packet);
    let at = OPTIONS_OFFSET;
    const messageType = packet.options.get(Option.MESSAGE_TYPE);
    if (messageType) at = writeOption(buf, Option.MESSAGE_TYPE, messageType, at);
    packet.options.forEach((value, code) => {
      if (code !== Option.MESSAGE_TYPE) at = writeOption(buf, code, value, at);
    });
    buf[at] = Option.END;
    return buf;
  }
  return encodeOverloaded(packet, settings);
}

/** Options that do not fit the options field: the rest go into file, then sname (RFC 2131 option 52). */
function encodeOverloaded(packet: DhcpPacket, settings: EncodeOptions): Buffer {
  const plan = layout(packet, settings);
  const buf = Buffer.alloc(plan.length);
  writeHeader(buf, packet);
  const overload = (plan.file ? OVERLOAD_FILE : 0) | (plan.sname ? OVERLOAD_SNAME : 0);
  let at = OPTIONS_OFFSET;
  const [first, ...rest] = plan.main;
  if (first) {
    first.copy(buf, at);
    at += first.length;
  }
  if (overload) {
    buf.set([Option.OVERLOAD, 1, overload], at);
    at += 3;
  }
  writePieces(buf, rest, at);
  if (plan.file) writePieces(buf, plan.file, FILE_OFFSET);
  if (plan.sname) writePieces(buf, plan.sname, SNAME_OFFSET);
  return buf;
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
