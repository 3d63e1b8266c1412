/**
 * DHCPv6 messages both ways (RFC 8415 §8, §9): client/server messages and relay-forw/relay-repl, with
 * `encode`, `decode` and `encodingLength` in dns-packet's shape. Options stay as raw bytes in wire order
 * (IA_NA may repeat), so re-encoding a captured packet is byte-identical; options/packet validation runs
 * while decoding so a malformed option is rejected here, with its offset, not later in a handler.
 */
import { Option, isRelayMessageType, messageTypeName, optionLengthRules, optionNames } from './constants.js';
import { decodeDuid, decodeIaAddress, decodeIaNa, decodeStatus, decodeUserClass, decodeVendorClass, decodeBootFileParams } from './options.js';
import { Dhcp6DecodeError, asBuffer, ipv6FromBytes, ipv6ToBytes, optionsLength, scanOptions, writeOptions, type Dhcp6Option } from './wire.js';

export { Dhcp6DecodeError, option, type Dhcp6Option } from './wire.js';

export interface Dhcp6ClientServerMessage {
  readonly kind: 'message';
  readonly msgType: number;
  /** 24-bit transaction id. */
  readonly transactionId: number;
  readonly options: readonly Dhcp6Option[];
}

export interface Dhcp6RelayMessage {
  readonly kind: 'relay';
  readonly msgType: 12 | 13;
  readonly hopCount: number;
  readonly linkAddress: string;
  readonly peerAddress: string;
  readonly options: readonly Dhcp6Option[];
}

export type Dhcp6Message = Dhcp6ClientServerMessage | Dhcp6RelayMessage;

const RELAY_HEADER = 34;
/** Relays nest at most HOP_COUNT_LIMIT (8) deep; more is a crafted packet, not a network. */
const MAX_RELAY_DEPTH = 32;

function checkLength(code: number, length: number, offset: number): void {
  const rule = optionLengthRules[code];
  if (!rule) return;
  if (length < rule.min || (rule.max !== undefined && length > rule.max) || (rule.multiple !== undefined && length % rule.multiple !== 0)) {
    const expected =
      rule.max === rule.min ? `${rule.min}` : rule.multiple ? `a multiple of ${rule.multiple}${rule.min ? `, at least ${rule.min}` : ''}` : `${rule.min}–${rule.max ?? '65535'}`;
    throw new Dhcp6DecodeError(offset - 4, `${optionNames[code] ?? `option ${code}`} (${code}) has length ${length}, expected ${expected}`);
  }
}

function validate(options: readonly { code: number; data: Buffer; offset: number }[], depth: number): void {
  for (const { code, data, offset } of options) {
    checkLength(code, data.length, offset);
    switch (code) {
      case Option.CLIENT_ID:
      case Option.SERVER_ID:
        decodeDuid(data, offset);
        break;
      case Option.IA_NA:
        decodeIaNa(data, offset);
        break;
      case Option.IAADDR:
        decodeIaAddress(data, offset);
        break;
      case Option.STATUS_CODE:
        decodeStatus(data, offset);
        break;
      case Option.USER_CLASS:
        decodeUserClass(data, offset);
        break;
      case Option.VENDOR_CLASS:
        decodeVendorClass(data, offset);
        break;
      case Option.BOOTFILE_PARAM:
        decodeBootFileParams(data, offset);
        break;
      case Option.RELAY_MSG:
        decodeAt(data, offset, depth + 1);
        break;
      default:
        break;
    }
  }
}

function decodeAt(buf: Buffer, base: number, depth: number): Dhcp6Message {
  if (depth > MAX_RELAY_DEPTH) throw new Dhcp6DecodeError(base, `relay messages nested deeper than ${MAX_RELAY_DEPTH}`);
  if (buf.length < 4) throw new Dhcp6DecodeError(base + buf.length, `message ends after ${buf.length} byte(s), before the 4-byte header`);
  const msgType = buf[0]!;
  if (msgType === 0) throw new Dhcp6DecodeError(base, 'message type 0 is reserved');
  if (isRelayMessageType(msgType)) {
    if (buf.length < RELAY_HEADER) {
      throw new Dhcp6DecodeError(base + buf.length, `relay message ends after ${buf.length} bytes, before its 34-byte header`);
    }
    const options = scanOptions(buf, RELAY_HEADER, buf.length, base, 'relay options');
    validate(options, depth);
    return {
      kind: 'relay',
      msgType,
      hopCount: buf[1]!,
      linkAddress: ipv6FromBytes(buf, 2),
      peerAddress: ipv6FromBytes(buf, 18),
      options: options.map(({ code, data }) => ({ code, data })),
    };
  }
  const options = scanOptions(buf, 4, buf.length, base, `${messageTypeName(msgType) ?? `message type ${msgType}`} options`);
  validate(options, depth);
  return {
    kind: 'message',
    msgType,
    transactionId: buf.readUIntBE(1, 3),
    options: options.map(({ code, data }) => ({ code, data })),
  };
}

export function decode(bytes: Uint8Array): Dhcp6Message {
  return decodeAt(asBuffer(bytes), 0, 0);
}

export function encodingLength(message: Dhcp6Message): number {
  return (message.kind === 'relay' ? RELAY_HEADER : 4) + optionsLength(message.options);
}

export function encode(message: Dhcp6Message, buf?: Buffer, offset = 0): Buffer {
  const length = encodingLength(message);
  const out = buf ?? Buffer.alloc(length);
  if (out.length - offset < length) throw new RangeError(`encode needs ${length} bytes at offset ${offset}, buffer has ${out.length - offset}`);
  if (!Number.isInteger(message.msgType) || message.msgType < 1 || message.msgType > 255) throw new RangeError(`not a DHCPv6 message type: ${message.msgType}`);
  out[offset] = message.msgType;
  let at: number;
  if (message.kind === 'relay') {
    out[offset + 1] = message.hopCount;
    ipv6ToBytes(message.linkAddress).copy(out, offset + 2);
    ipv6ToBytes(message.peerAddress).copy(out, offset + 18);
    at = offset + RELAY_HEADER;
  } else {
    if (!Number.isInteger(message.transactionId) || message.transactionId < 0 || message.transactionId > 0xffffff) {
      throw new RangeError(`transaction id ${message.transactionId} does not fit 24 bits`);
    }
    out.writeUIntBE(message.transactionId, offset + 1, 3);
    at = offset + 4;
  }
  writeOptions(message.options, out, at);
  return buf ? out.subarray(offset, offset + length) : out;
}

// ---- lookups ----

export function findOption(message: Pick<Dhcp6Message, 'options'>, code: number): Buffer | undefined {
  return message.options.find((o) => o.code === code)?.data;
}

export function findOptions(message: Pick<Dhcp6Message, 'options'>, code: number): Buffer[] {
  return message.options.filter((o) => o.code === code).map((o) => o.data);
}

/** The innermost client message of a relay chain, with the relays from outermost in. */
export function unwrapRelay(message: Dhcp6Message): { inner: Dhcp6ClientServerMessage | undefined; relays: Dhcp6RelayMessage[] } {
  const relays: Dhcp6RelayMessage[] = [];
  let current: Dhcp6Message = message;
  while (current.kind === 'relay') {
    relays.push(current);
    const payload = findOption(current, Option.RELAY_MSG);
    if (!payload) return { inner: undefined, relays };
    current = decode(payload);
  }
  return { inner: current, relays };
}
