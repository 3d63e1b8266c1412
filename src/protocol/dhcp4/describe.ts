/** A JSON view of a packet's options, keyed by name, for events, the console and `pxedeck explain`. */
import { Option, clientArchNames, messageTypeName, optionNames } from './constants.js';
import {
  decodeClientArch,
  decodeClientNdi,
  decodeClientUuid,
  decodeIpxeOptions,
  decodePxeVendorOptions,
  decodeUserClass,
  readAddressList,
} from './options.js';
import { bytesToAddress } from './ipv4-address.js';
import type { DhcpOptions } from './packet.js';

const addressListOptions = new Set<number>([1, 3, 6, 7, 28, 50, 54]);
const uint32Options = new Set<number>([51, 58, 59]);
const textOptions = new Set<number>([12, 15, 56, 60, 66, 67]);

/** One option's value as the JSON view shows it. */
export function describeValue(code: number, value: Buffer): unknown {
  try {
    if (addressListOptions.has(code)) {
      if (value.length === 4) return bytesToAddress(value);
      const list = readAddressList(value);
      return list.length === 1 ? list[0] : list;
    }
    if (uint32Options.has(code) && value.length === 4) return value.readUInt32BE(0);
    if (textOptions.has(code)) return value.toString('latin1');
    switch (code) {
      case Option.MESSAGE_TYPE:
        return messageTypeName(value[0]) ?? value[0];
      case Option.MAX_MESSAGE_SIZE:
        return value.length === 2 ? value.readUInt16BE(0) : value.toString('hex');
      case Option.PARAMETER_REQUEST_LIST:
        return [...value];
      case Option.USER_CLASS:
        return decodeUserClass(value);
      case Option.CLIENT_ARCH:
        return decodeClientArch(value).map((arch) => `${arch} (${clientArchNames[arch] ?? 'unknown'})`);
      case Option.CLIENT_NDI:
        return decodeClientNdi(value) ?? value.toString('hex');
      case Option.CLIENT_UUID:
        return decodeClientUuid(value)?.uuid ?? value.toString('hex');
      case Option.VENDOR_SPECIFIC:
        return decodePxeVendorOptions(value);
      case Option.IPXE:
        return decodeIpxeOptions(value);
      default:
        return value.toString('hex');
    }
  } catch {
    // A sub-structure we cannot read is still worth showing to the operator as bytes.
    return value.toString('hex');
  }
}

/** "53:message-type" and the like, made once per code: every packet's view is keyed by them. */
const optionKeys: string[] = [];
export const optionKey = (code: number): string => (optionKeys[code] ??= `${code}:${optionNames[code] ?? 'option'}`);

export function describeOptions(options: DhcpOptions): Record<string, unknown> {
  const view: Record<string, unknown> = {};
  options.forEach((value, code) => {
    view[optionKey(code)] = describeValue(code, value);
  });
  return view;
}
