/**
 * The TLV layer every DHCPv6 structure shares (RFC 8415 §21.1: 16-bit code, 16-bit length), the decode
 * error that names the absolute offset, and IPv6 address bytes. Nested decoders get a `base` so an error
 * deep inside an IA_NA still points at the byte in the datagram.
 */
import ipaddr, { type IPv6 } from '../ipaddr.js';

export interface Dhcp6Option {
  readonly code: number;
  readonly data: Buffer;
}

export class Dhcp6DecodeError extends Error {
  override readonly name = 'Dhcp6DecodeError';
  constructor(
    readonly offset: number,
    detail: string,
  ) {
    super(`${detail} (at offset ${offset})`);
  }
}

/** One option as found on the wire, with the absolute offset of its value. */
export interface ScannedOption extends Dhcp6Option {
  readonly offset: number;
}

/** Reads options from `buf[start..end)`; `base` is the absolute offset of `buf[0]` in the datagram. */
export function scanOptions(buf: Buffer, start: number, end: number, base: number, where: string): ScannedOption[] {
  const options: ScannedOption[] = [];
  let offset = start;
  while (offset < end) {
    if (end - offset < 4) {
      throw new Dhcp6DecodeError(base + offset, `${end - offset} stray byte(s) in ${where}, too short for an option header`);
    }
    const code = buf.readUInt16BE(offset);
    const length = buf.readUInt16BE(offset + 2);
    if (offset + 4 + length > end) {
      throw new Dhcp6DecodeError(base + offset, `option ${code} in ${where} claims ${length} bytes but only ${end - offset - 4} remain`);
    }
    options.push({ code, offset: base + offset + 4, data: buf.subarray(offset + 4, offset + 4 + length) });
    offset += 4 + length;
  }
  return options;
}

export function optionsLength(options: readonly Dhcp6Option[]): number {
  let length = 0;
  for (const option of options) length += 4 + option.data.length;
  return length;
}

export function writeOptions(options: readonly Dhcp6Option[], buf: Buffer, offset: number): number {
  let at = offset;
  for (const option of options) {
    if (!Number.isInteger(option.code) || option.code < 0 || option.code > 0xffff) throw new RangeError(`not a DHCPv6 option code: ${option.code}`);
    if (option.data.length > 0xffff) throw new RangeError(`option ${option.code} is ${option.data.length} bytes, more than 65535`);
    buf.writeUInt16BE(option.code, at);
    buf.writeUInt16BE(option.data.length, at + 2);
    option.data.copy(buf, at + 4);
    at += 4 + option.data.length;
  }
  return at;
}

export function encodeOptions(options: readonly Dhcp6Option[]): Buffer {
  const buf = Buffer.alloc(optionsLength(options));
  writeOptions(options, buf, 0);
  return buf;
}

export function option(code: number, data: Uint8Array = Buffer.alloc(0)): Dhcp6Option {
  return { code, data: Buffer.isBuffer(data) ? data : Buffer.from(data) };
}

/** Compressed RFC 5952 text. */
export function ipv6FromBytes(bytes: Uint8Array, offset = 0): string {
  return ipaddr.fromByteArray(Array.from(bytes.subarray(offset, offset + 16))).toString();
}

export function ipv6ToBytes(address: string): Buffer {
  let parsed: IPv6;
  try {
    parsed = ipaddr.IPv6.parse(address.replace(/%.*$/, ''));
  } catch {
    throw new TypeError(`not an IPv6 address: ${JSON.stringify(address)}`);
  }
  return Buffer.from(parsed.toByteArray());
}

export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
