/**
 * DHCPv4/BOOTP packets to bytes (RFC 2131, 2132): option 53 first, long options split across instances
 * (RFC 3396), and options overloaded into the file and sname fields (option 52) when the receiver's size is
 * short of them. `encode` and `encodingLength` follow dns-packet's shape; `decode` is in packet.ts.
 */
import {
  BOOTP_MINIMUM_SIZE,
  DEFAULT_MAX_MESSAGE_SIZE,
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
} from './constants.js';
import { writeAddress } from './ipv4-address.js';
import type { DhcpOptions, DhcpPacket } from './packet.js';

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
