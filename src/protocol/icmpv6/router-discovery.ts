/**
 * Router discovery messages (RFC 4861 §4.1–4.2, §4.6): Router Solicitation (133) and Router Advertisement
 * (134) with their options kept in wire order, so decode(encode(x)) is x and a captured packet re-encodes
 * to its own bytes. The checksum is left 0 on encode and not checked on decode: a raw ICMPv6 socket has the
 * kernel compute it on send and verify it on receive (RFC 3542 §3.1).
 */
import ipaddr from '../ipaddr.js';
import { macFromBytes, macToBytes, type Mac } from '../mac.js';

export const IcmpV6Type = { ROUTER_SOLICIT: 133, ROUTER_ADVERT: 134 } as const;
export const NdOptionType = { SOURCE_LINK_LAYER: 1, TARGET_LINK_LAYER: 2, PREFIX_INFORMATION: 3, MTU: 5, RDNSS: 25 } as const;

/** RFC 4191 default router preference (2 bits in the RA flags byte); 0b10 is reserved and reads as medium. */
export const routerPreferences = ['medium', 'high', 'medium', 'low'] as const;
export type RouterPreference = 'low' | 'medium' | 'high';

export type NdOption =
  | { readonly type: 'source-link-layer'; readonly mac: Mac }
  | {
      readonly type: 'prefix';
      readonly prefix: string;
      readonly prefixLength: number;
      readonly onLink: boolean;
      readonly autonomous: boolean;
      /** Seconds; 0xffffffff is infinity. */
      readonly validLifetime: number;
      readonly preferredLifetime: number;
    }
  | { readonly type: 'mtu'; readonly mtu: number }
  /** Anything else, as raw option bytes after the type and length (length = (data.length + 2) / 8). */
  | { readonly type: 'raw'; readonly code: number; readonly data: Buffer };

export type PrefixOption = Extract<NdOption, { type: 'prefix' }>;

export interface RouterSolicit {
  readonly kind: 'router-solicit';
  readonly options: readonly NdOption[];
}

export interface RouterAdvert {
  readonly kind: 'router-advert';
  /** 0 = unspecified by this router. */
  readonly curHopLimit: number;
  readonly managed: boolean;
  readonly other: boolean;
  readonly preference: RouterPreference;
  /** Seconds; 0 = not a default router (pxedeck sends 0 in proxy mode, a short lifetime in full mode: see the RA service). */
  readonly routerLifetime: number;
  readonly reachableTime: number;
  readonly retransTimer: number;
  readonly options: readonly NdOption[];
}

export type RouterDiscoveryMessage = RouterSolicit | RouterAdvert;

export class NdDecodeError extends Error {
  override readonly name = 'NdDecodeError';
  constructor(
    readonly offset: number,
    detail: string,
  ) {
    super(`${detail} (at offset ${offset})`);
  }
}

const HEADER_LENGTH = { 'router-solicit': 8, 'router-advert': 16 } as const;

function optionLength(option: NdOption): number {
  switch (option.type) {
    case 'source-link-layer':
    case 'mtu':
      return 8;
    case 'prefix':
      return 32;
    case 'raw':
      return 2 + option.data.length;
  }
}

export function encodingLength(message: RouterDiscoveryMessage): number {
  return HEADER_LENGTH[message.kind] + message.options.reduce((sum, option) => sum + optionLength(option), 0);
}

function checkUInt(value: number, bits: 8 | 16 | 32, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 2 ** bits - 1) throw new RangeError(`${what} ${value} does not fit in ${bits} bits`);
}

function writeOption(option: NdOption, out: Buffer, at: number): number {
  const length = optionLength(option);
  switch (option.type) {
    case 'source-link-layer':
      out[at] = NdOptionType.SOURCE_LINK_LAYER;
      out[at + 1] = 1;
      macToBytes(option.mac).copy(out, at + 2);
      break;
    case 'mtu':
      checkUInt(option.mtu, 32, 'MTU');
      out[at] = NdOptionType.MTU;
      out[at + 1] = 1;
      out.writeUInt32BE(option.mtu, at + 4);
      break;
    case 'prefix': {
      if (!Number.isInteger(option.prefixLength) || option.prefixLength < 0 || option.prefixLength > 128) {
        throw new RangeError(`prefix length ${option.prefixLength} is not 0–128`);
      }
      checkUInt(option.validLifetime, 32, 'valid lifetime');
      checkUInt(option.preferredLifetime, 32, 'preferred lifetime');
      out[at] = NdOptionType.PREFIX_INFORMATION;
      out[at + 1] = 4;
      out[at + 2] = option.prefixLength;
      out[at + 3] = (option.onLink ? 0x80 : 0) | (option.autonomous ? 0x40 : 0);
      out.writeUInt32BE(option.validLifetime, at + 4);
      out.writeUInt32BE(option.preferredLifetime, at + 8);
      Buffer.from(ipaddr.IPv6.parse(option.prefix).toByteArray()).copy(out, at + 16);
      break;
    }
    case 'raw':
      checkUInt(option.code, 8, 'option type');
      if (length % 8 !== 0) throw new RangeError(`option ${option.code}: ${option.data.length} data bytes + 2 is not a multiple of 8`);
      if (length > 255 * 8) throw new RangeError(`option ${option.code} is too long (${length} bytes)`);
      out[at] = option.code;
      out[at + 1] = length / 8;
      option.data.copy(out, at + 2);
      break;
  }
  return at + length;
}

export function encode(message: RouterDiscoveryMessage, buf?: Buffer, offset = 0): Buffer {
  const length = encodingLength(message);
  const out = buf ?? Buffer.alloc(offset + length);
  out.fill(0, offset, offset + length);
  if (message.kind === 'router-solicit') {
    out[offset] = IcmpV6Type.ROUTER_SOLICIT;
  } else {
    checkUInt(message.curHopLimit, 8, 'hop limit');
    checkUInt(message.routerLifetime, 16, 'router lifetime');
    checkUInt(message.reachableTime, 32, 'reachable time');
    checkUInt(message.retransTimer, 32, 'retrans timer');
    out[offset] = IcmpV6Type.ROUTER_ADVERT;
    out[offset + 4] = message.curHopLimit;
    const preferenceBits = message.preference === 'high' ? 0b01 : message.preference === 'low' ? 0b11 : 0b00;
    out[offset + 5] = (message.managed ? 0x80 : 0) | (message.other ? 0x40 : 0) | (preferenceBits << 3);
    out.writeUInt16BE(message.routerLifetime, offset + 6);
    out.writeUInt32BE(message.reachableTime, offset + 8);
    out.writeUInt32BE(message.retransTimer, offset + 12);
  }
  let at = offset + HEADER_LENGTH[message.kind];
  for (const option of message.options) at = writeOption(option, out, at);
  return out;
}

function readOption(code: number, data: Buffer, offset: number): NdOption {
  switch (code) {
    case NdOptionType.SOURCE_LINK_LAYER:
      // Ethernet: 6 address bytes in an 8-byte option. Other link types stay raw.
      return data.length === 6 ? { type: 'source-link-layer', mac: macFromBytes(data) } : { type: 'raw', code, data };
    case NdOptionType.MTU:
      if (data.length !== 6) throw new NdDecodeError(offset, `MTU option is ${data.length + 2} bytes, not 8`);
      return { type: 'mtu', mtu: data.readUInt32BE(2) };
    case NdOptionType.PREFIX_INFORMATION: {
      if (data.length !== 30) throw new NdDecodeError(offset, `prefix information option is ${data.length + 2} bytes, not 32`);
      const prefixLength = data[0]!;
      if (prefixLength > 128) throw new NdDecodeError(offset + 2, `prefix length ${prefixLength} is more than 128`);
      return {
        type: 'prefix',
        prefix: ipaddr.fromByteArray([...data.subarray(14, 30)]).toString(),
        prefixLength,
        onLink: (data[1]! & 0x80) !== 0,
        autonomous: (data[1]! & 0x40) !== 0,
        validLifetime: data.readUInt32BE(2),
        preferredLifetime: data.readUInt32BE(6),
      };
    }
    default:
      return { type: 'raw', code, data: Buffer.from(data) };
  }
}

/** Decodes an ICMPv6 router solicitation or advertisement (the ICMPv6 header onward, as a raw socket reads it). */
export function decode(bytes: Uint8Array): RouterDiscoveryMessage {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 4) throw new NdDecodeError(0, `${buf.length} bytes is too short for an ICMPv6 header`);
  const type = buf[0]!;
  const kind = type === IcmpV6Type.ROUTER_SOLICIT ? 'router-solicit' : type === IcmpV6Type.ROUTER_ADVERT ? 'router-advert' : undefined;
  if (!kind) throw new NdDecodeError(0, `ICMPv6 type ${type} is not a router solicitation (133) or advertisement (134)`);
  // RFC 4861 §6.1: a code other than 0 means the message is to be discarded.
  if (buf[1] !== 0) throw new NdDecodeError(1, `ICMPv6 code ${buf[1]} is not 0`);
  const headerLength = HEADER_LENGTH[kind];
  if (buf.length < headerLength) throw new NdDecodeError(0, `${buf.length} bytes is too short for a ${kind} (${headerLength})`);
  const options: NdOption[] = [];
  let at = headerLength;
  while (at < buf.length) {
    if (buf.length - at < 2) throw new NdDecodeError(at, '1 stray byte, too short for an option header');
    const units = buf[at + 1]!;
    // §4.6: a zero length would loop forever; the whole packet is invalid.
    if (units === 0) throw new NdDecodeError(at + 1, `option ${buf[at]} has length 0`);
    if (at + units * 8 > buf.length) throw new NdDecodeError(at, `option ${buf[at]} claims ${units * 8} bytes but only ${buf.length - at} remain`);
    options.push(readOption(buf[at]!, buf.subarray(at + 2, at + units * 8), at));
    at += units * 8;
  }
  if (kind === 'router-solicit') return { kind, options };
  const flags = buf[5]!;
  return {
    kind,
    curHopLimit: buf[4]!,
    managed: (flags & 0x80) !== 0,
    other: (flags & 0x40) !== 0,
    preference: routerPreferences[(flags >> 3) & 0b11]!,
    routerLifetime: buf.readUInt16BE(6),
    reachableTime: buf.readUInt32BE(8),
    retransTimer: buf.readUInt32BE(12),
    options,
  };
}

export function sourceLinkLayerOf(message: RouterDiscoveryMessage): Mac | undefined {
  for (const option of message.options) if (option.type === 'source-link-layer') return option.mac;
  return undefined;
}

export function prefixesOf(message: RouterDiscoveryMessage): PrefixOption[] {
  return message.options.filter((option): option is PrefixOption => option.type === 'prefix');
}
