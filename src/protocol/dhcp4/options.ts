/** Typed readers and writers for the option values PXE and iPXE clients use. Pure: bytes in, values out. */
import { IpxeSubOption, Option, PxeSubOption, ipxeSubOptionNames, messageTypeName, type MessageTypeName } from './constants.js';
import { addressToBytes, bytesToAddress } from './ipv4-address.js';
import type { DhcpPacket } from './packet.js';

export function messageTypeOf(packet: DhcpPacket): MessageTypeName | undefined {
  return messageTypeName(packet.options.get(Option.MESSAGE_TYPE)?.[0]);
}

export function readString(packet: DhcpPacket, code: number): string | undefined {
  return packet.options.get(code)?.toString('latin1');
}

export function readAddressOption(packet: DhcpPacket, code: number): string | undefined {
  const value = packet.options.get(code);
  return value && value.length >= 4 ? bytesToAddress(value) : undefined;
}

export function readAddressList(value: Buffer): string[] {
  const addresses: string[] = [];
  for (let offset = 0; offset + 4 <= value.length; offset += 4) addresses.push(bytesToAddress(value, offset));
  return addresses;
}

export function readUint32Option(packet: DhcpPacket, code: number): number | undefined {
  const value = packet.options.get(code);
  return value && value.length === 4 ? value.readUInt32BE(0) : undefined;
}

export function uint32(value: number): Buffer {
  const buf = Buffer.alloc(4);
  buf.writeUInt32BE(value >>> 0);
  return buf;
}

export function addresses(...list: readonly string[]): Buffer {
  return Buffer.concat(list.map(addressToBytes));
}

/** Option 77. iPXE sends the bare bytes `iPXE`; RFC 3004 wants length-prefixed instances. */
export interface UserClass {
  readonly form: 'raw' | 'rfc3004';
  readonly classes: readonly string[];
}

export function decodeUserClass(value: Buffer): UserClass {
  const classes: string[] = [];
  let offset = 0;
  while (offset < value.length) {
    const length = value[offset]!;
    if (length === 0 || offset + 1 + length > value.length) return { form: 'raw', classes: [value.toString('latin1')] };
    classes.push(value.toString('latin1', offset + 1, offset + 1 + length));
    offset += 1 + length;
  }
  return classes.length ? { form: 'rfc3004', classes } : { form: 'raw', classes: [] };
}

export function encodeUserClass(userClass: UserClass): Buffer {
  if (userClass.form === 'raw') return Buffer.from(userClass.classes.join(''), 'latin1');
  return Buffer.concat(
    userClass.classes.map((name) => {
      const bytes = Buffer.from(name, 'latin1');
      if (bytes.length === 0 || bytes.length > 255) throw new RangeError(`user class ${JSON.stringify(name)} must be 1–255 bytes`);
      return Buffer.concat([Buffer.from([bytes.length]), bytes]);
    }),
  );
}

/** Option 93: the client's architectures, RFC 4578 §2.1. */
export function decodeClientArch(value: Buffer): number[] {
  const arches: number[] = [];
  for (let offset = 0; offset + 2 <= value.length; offset += 2) arches.push(value.readUInt16BE(offset));
  return arches;
}

export function encodeClientArch(arches: readonly number[]): Buffer {
  const buf = Buffer.alloc(arches.length * 2);
  arches.forEach((arch, index) => buf.writeUInt16BE(arch, index * 2));
  return buf;
}

/** Option 94: network device interface (type 1 = UNDI) and its version. */
export interface ClientNdi {
  readonly type: number;
  readonly major: number;
  readonly minor: number;
}

export function decodeClientNdi(value: Buffer): ClientNdi | undefined {
  return value.length === 3 ? { type: value[0]!, major: value[1]!, minor: value[2]! } : undefined;
}

/** Option 97: type 0 followed by the 16-byte SMBIOS UUID, kept in wire order. */
export interface ClientUuid {
  readonly type: number;
  readonly uuid: string;
}

export function decodeClientUuid(value: Buffer): ClientUuid | undefined {
  if (value.length !== 17) return undefined;
  const hex = value.subarray(1).toString('hex');
  return {
    type: value[0]!,
    uuid: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`,
  };
}

/** Option 60 as PXE firmware writes it: `PXEClient:Arch:00007:UNDI:003010`. */
export interface VendorClass {
  readonly text: string;
  readonly family?: 'PXEClient' | 'HTTPClient';
  readonly arch?: number;
  readonly undi?: { readonly major: number; readonly minor: number };
}

export function decodeVendorClass(value: Buffer): VendorClass {
  const text = value.toString('latin1');
  const family = text.startsWith('PXEClient') ? 'PXEClient' : text.startsWith('HTTPClient') ? 'HTTPClient' : undefined;
  const arch = /:Arch:(\d{5})/.exec(text);
  const undi = /:UNDI:(\d{3})(\d{3})/.exec(text);
  return {
    text,
    ...(family && { family }),
    ...(arch && { arch: Number(arch[1]) }),
    ...(undi && { undi: { major: Number(undi[1]), minor: Number(undi[2]) } }),
  };
}

/** The TLV encoding shared by option 43 (PXE) and option 175 (iPXE); pads skipped, END stops. */
export function decodeEncapsulated(value: Buffer): Map<number, Buffer> {
  const options = new Map<number, Buffer>();
  let offset = 0;
  while (offset < value.length) {
    const code = value[offset]!;
    if (code === Option.PAD) {
      offset += 1;
      continue;
    }
    if (code === Option.END) break;
    const length = value[offset + 1];
    if (length === undefined || offset + 2 + length > value.length) {
      throw new RangeError(`encapsulated option ${code} at offset ${offset} runs past the end of its ${value.length}-byte parent`);
    }
    options.set(code, value.subarray(offset + 2, offset + 2 + length));
    offset += 2 + length;
  }
  return options;
}

export function encodeEncapsulated(options: ReadonlyMap<number, Buffer>, withEnd = true): Buffer {
  const pieces: Buffer[] = [];
  for (const [code, value] of options) {
    if (value.length > 255) throw new RangeError(`encapsulated option ${code} is ${value.length} bytes, over 255`);
    pieces.push(Buffer.from([code, value.length]), value);
  }
  if (withEnd) pieces.push(Buffer.from([Option.END]));
  return Buffer.concat(pieces);
}

/** iPXE's option 175, decoded to names for the operator: feature flags, bus id, version. */
export interface IpxeInfo {
  readonly features: readonly string[];
  readonly busId?: string;
  readonly version?: string;
  readonly noPxeDhcp?: boolean;
}

export function decodeIpxeOptions(value: Buffer): IpxeInfo {
  const sub = decodeEncapsulated(value);
  const features: string[] = [];
  for (const [code, bytes] of sub) {
    if (code >= 16 && code <= 63 && bytes[0]) features.push(ipxeSubOptionNames[code] ?? `feature-${code}`);
  }
  const bus = sub.get(IpxeSubOption.BUS_ID);
  const version = sub.get(IpxeSubOption.VERSION);
  const noPxeDhcp = sub.get(IpxeSubOption.NO_PXEDHCP);
  return {
    features,
    ...(bus && { busId: bus.toString('hex') }),
    ...(version && version.length >= 3 && { version: `${version[0]}.${version[1]}.${version[2]}` }),
    ...(noPxeDhcp && { noPxeDhcp: noPxeDhcp[0] === 1 }),
  };
}

/** 175.176 = 1: tells iPXE not to wait ~3 s for proxyDHCP offers. */
export function encodeIpxeNoPxeDhcp(): Buffer {
  return encodeEncapsulated(new Map([[IpxeSubOption.NO_PXEDHCP, Buffer.from([1])]]), false);
}

/** PXE boot server as listed in vendor sub-option 8. */
export interface PxeBootServer {
  readonly type: number;
  readonly addresses: readonly string[];
}

export interface PxeMenuItem {
  readonly type: number;
  readonly description: string;
}

/** The PXE vendor options a server puts into option 43 (PXE spec 2.1 §2.2.5). */
export interface PxeVendorOptions {
  readonly discoveryControl?: number;
  readonly bootServers?: readonly PxeBootServer[];
  readonly bootMenu?: readonly PxeMenuItem[];
  readonly menuPrompt?: { readonly timeout: number; readonly prompt: string };
  readonly bootItem?: { readonly type: number; readonly layer: number };
}

export function encodePxeVendorOptions(pxe: PxeVendorOptions): Buffer {
  const sub = new Map<number, Buffer>();
  if (pxe.discoveryControl !== undefined) sub.set(PxeSubOption.DISCOVERY_CONTROL, Buffer.from([pxe.discoveryControl]));
  if (pxe.bootServers) {
    sub.set(
      PxeSubOption.BOOT_SERVERS,
      Buffer.concat(
        pxe.bootServers.map((server) => {
          const head = Buffer.alloc(3);
          head.writeUInt16BE(server.type);
          head[2] = server.addresses.length;
          return Buffer.concat([head, addresses(...server.addresses)]);
        }),
      ),
    );
  }
  if (pxe.bootMenu) {
    sub.set(
      PxeSubOption.BOOT_MENU,
      Buffer.concat(
        pxe.bootMenu.map((item) => {
          const text = Buffer.from(item.description, 'latin1');
          const head = Buffer.alloc(3);
          head.writeUInt16BE(item.type);
          head[2] = text.length;
          return Buffer.concat([head, text]);
        }),
      ),
    );
  }
  if (pxe.menuPrompt) {
    sub.set(PxeSubOption.MENU_PROMPT, Buffer.concat([Buffer.from([pxe.menuPrompt.timeout]), Buffer.from(pxe.menuPrompt.prompt, 'latin1')]));
  }
  if (pxe.bootItem) {
    const item = Buffer.alloc(4);
    item.writeUInt16BE(pxe.bootItem.type);
    item.writeUInt16BE(pxe.bootItem.layer, 2);
    sub.set(PxeSubOption.BOOT_ITEM, item);
  }
  return encodeEncapsulated(sub);
}

export function decodePxeVendorOptions(value: Buffer): PxeVendorOptions {
  const sub = decodeEncapsulated(value);
  const result: {
    discoveryControl?: number;
    bootServers?: PxeBootServer[];
    bootMenu?: PxeMenuItem[];
    menuPrompt?: { timeout: number; prompt: string };
    bootItem?: { type: number; layer: number };
  } = {};
  const control = sub.get(PxeSubOption.DISCOVERY_CONTROL);
  if (control?.length) result.discoveryControl = control[0]!;
  const servers = sub.get(PxeSubOption.BOOT_SERVERS);
  if (servers) {
    result.bootServers = [];
    for (let offset = 0; offset + 3 <= servers.length; ) {
      const count = servers[offset + 2]!;
      const list = readAddressList(servers.subarray(offset + 3, offset + 3 + count * 4));
      result.bootServers.push({ type: servers.readUInt16BE(offset), addresses: list });
      offset += 3 + count * 4;
    }
  }
  const menu = sub.get(PxeSubOption.BOOT_MENU);
  if (menu) {
    result.bootMenu = [];
    for (let offset = 0; offset + 3 <= menu.length; ) {
      const length = menu[offset + 2]!;
      result.bootMenu.push({ type: menu.readUInt16BE(offset), description: menu.toString('latin1', offset + 3, offset + 3 + length) });
      offset += 3 + length;
    }
  }
  const prompt = sub.get(PxeSubOption.MENU_PROMPT);
  if (prompt?.length) result.menuPrompt = { timeout: prompt[0]!, prompt: prompt.toString('latin1', 1) };
  const item = sub.get(PxeSubOption.BOOT_ITEM);
  if (item?.length === 4) result.bootItem = { type: item.readUInt16BE(0), layer: item.readUInt16BE(2) };
  return result;
}
