/** A JSON view of a DHCPv6 message's options, keyed by name, for events and the headless log. */
import { Option, optionNames } from './constants.js';
import {
  decodeAddressList,
  decodeBootFileUrl,
  decodeDuid,
  decodeIaNa,
  decodeNii,
  decodeStatus,
  decodeUint16List,
  decodeUserClass,
  decodeVendorClass,
  iaAddresses,
} from './options.js';
import type { Dhcp6Option } from './wire.js';

function view(option: Dhcp6Option): unknown {
  const { code, data } = option;
  switch (code) {
    case Option.CLIENT_ID:
    case Option.SERVER_ID: {
      const duid = decodeDuid(data);
      return { type: duid.type, hex: data.toString('hex') };
    }
    case Option.IA_NA: {
      const ia = decodeIaNa(data);
      return { iaid: ia.iaid, t1: ia.t1, t2: ia.t2, addresses: iaAddresses(ia).map((a) => a.address) };
    }
    case Option.ORO:
    case Option.CLIENT_ARCH_TYPE:
    case Option.ELAPSED_TIME:
      return decodeUint16List(data);
    case Option.STATUS_CODE:
      return decodeStatus(data);
    case Option.USER_CLASS:
      return decodeUserClass(data);
    case Option.VENDOR_CLASS:
      return decodeVendorClass(data);
    case Option.DNS_SERVERS:
      return decodeAddressList(data);
    case Option.BOOTFILE_URL:
      return decodeBootFileUrl(data);
    case Option.NII:
      return decodeNii(data);
    case Option.PREFERENCE:
      return data[0];
    case Option.RAPID_COMMIT:
      return true;
    default:
      return data.toString('hex');
  }
}

export function describeOptions6(options: readonly Dhcp6Option[]): Record<string, unknown> {
  const seen = new Map<string, unknown[]>();
  for (const option of options) {
    const name = optionNames[option.code] ?? `option-${option.code}`;
    let value: unknown;
    try {
      value = view(option);
    } catch {
      // Options nested in a relay or inside an IA may be ours to pass through, not to understand.
      value = option.data.toString('hex');
    }
    seen.set(name, [...(seen.get(name) ?? []), value]);
  }
  // A repeated option (two IA_NAs) becomes a list; a single one stays a value.
  return Object.fromEntries([...seen].map(([name, values]) => [name, values.length === 1 ? values[0] : values]));
}
