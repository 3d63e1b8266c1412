/**
 * Typed readers and writers for the option values network-boot clients and servers exchange. Each reader
 * takes the option's value bytes (and optionally their absolute offset, for errors); each writer returns
 * value bytes to wrap with `option(code, ...)`.
 */
import { DuidType, Option, StatusCode, type StatusCodeName } from './constants.js';
import { Dhcp6DecodeError, asBuffer, encodeOptions, ipv6FromBytes, ipv6ToBytes, scanOptions, type Dhcp6Option } from './wire.js';

// ---- DUID (RFC 8415 §11, RFC 6355) ----

export type Duid =
  | { readonly type: 'llt'; readonly hardwareType: number; readonly time: number; readonly linkLayerAddress: Buffer }
  | { readonly type: 'en'; readonly enterprise: number; readonly identifier: Buffer }
  | { readonly type: 'll'; readonly hardwareType: number; readonly linkLayerAddress: Buffer }
  /** The 16 bytes exactly as sent: firmware disagree on their byte order (see boot/dhcp6-identity.ts). */
  | { readonly type: 'uuid'; readonly uuid: Buffer }
  | { readonly type: 'unknown'; readonly code: number; readonly data: Buffer };

export function decodeDuid(bytes: Uint8Array, base = 0): Duid {
  const value = asBuffer(bytes);
  if (value.length < 2) throw new Dhcp6DecodeError(base, `DUID of ${value.length} byte(s) has no type`);
  const code = value.readUInt16BE(0);
  const need = (min: number, what: string): void => {
    if (value.length < min) throw new Dhcp6DecodeError(base, `${what} needs at least ${min} bytes, has ${value.length}`);
  };
  switch (code) {
    case DuidType.LLT:
      need(8, 'DUID-LLT');
      return { type: 'llt', hardwareType: value.readUInt16BE(2), time: value.readUInt32BE(4), linkLayerAddress: value.subarray(8) };
    case DuidType.EN:
      need(6, 'DUID-EN');
      return { type: 'en', enterprise: value.readUInt32BE(2), identifier: value.subarray(6) };
    case DuidType.LL:
      need(4, 'DUID-LL');
      return { type: 'll', hardwareType: value.readUInt16BE(2), linkLayerAddress: value.subarray(4) };
    case DuidType.UUID:
      if (value.length !== 18) throw new Dhcp6DecodeError(base, `DUID-UUID must be 18 bytes, has ${value.length}`);
      return { type: 'uuid', uuid: value.subarray(2) };
    default:
      return { type: 'unknown', code, data: value.subarray(2) };
  }
}

export function encodeDuid(duid: Duid): Buffer {
  switch (duid.type) {
    case 'llt': {
      const head = Buffer.alloc(8);
      head.writeUInt16BE(DuidType.LLT, 0);
      head.writeUInt16BE(duid.hardwareType, 2);
      head.writeUInt32BE(duid.time >>> 0, 4);
      return Buffer.concat([head, duid.linkLayerAddress]);
    }
    case 'en': {
      const head = Buffer.alloc(6);
      head.writeUInt16BE(DuidType.EN, 0);
      head.writeUInt32BE(duid.enterprise >>> 0, 2);
      return Buffer.concat([head, duid.identifier]);
    }
    case 'll': {
      const head = Buffer.alloc(4);
      head.writeUInt16BE(DuidType.LL, 0);
      head.writeUInt16BE(duid.hardwareType, 2);
      return Buffer.concat([head, duid.linkLayerAddress]);
    }
    case 'uuid': {
      if (duid.uuid.length !== 16) throw new RangeError(`DUID-UUID needs 16 bytes, got ${duid.uuid.length}`);
      return Buffer.concat([Buffer.from([0, DuidType.UUID]), duid.uuid]);
    }
    case 'unknown': {
      const head = Buffer.alloc(2);
      head.writeUInt16BE(duid.code, 0);
      return Buffer.concat([head, duid.data]);
    }
  }
}

/** Lower-case hex of the whole DUID: a stable key for one client's identity. */
export function duidHex(bytes: Uint8Array): string {
  return asBuffer(bytes).toString('hex');
}

// ---- Status code (13) ----

export interface Status {
  readonly code: number;
  readonly name?: StatusCodeName;
  readonly message: string;
}

const statusNames = new Map<number, StatusCodeName>(Object.entries(StatusCode).map(([name, code]) => [code, name as StatusCodeName]));

export function decodeStatus(bytes: Uint8Array, base = 0): Status {
  const value = asBuffer(bytes);
  if (value.length < 2) throw new Dhcp6DecodeError(base, `status code option of ${value.length} byte(s) has no code`);
  const code = value.readUInt16BE(0);
  const name = statusNames.get(code);
  return { code, ...(name && { name }), message: value.toString('utf8', 2) };
}

export function encodeStatus(code: number, message = ''): Buffer {
  const head = Buffer.alloc(2);
  head.writeUInt16BE(code, 0);
  return Buffer.concat([head, Buffer.from(message, 'utf8')]);
}

// ---- IA address (5) and IA_NA (3) ----

export interface IaAddress {
  readonly address: string;
  readonly preferredLifetime: number;
  readonly validLifetime: number;
  /** Everything nested (status code and any other option), in order. */
  readonly options: readonly Dhcp6Option[];
}

/** An option made of a fixed head and then options of its own (IAADDR, IA_NA): both, the nested ones checked. */
function withNestedOptions(bytes: Uint8Array, base: number, headLength: number, name: string): { value: Buffer; options: Dhcp6Option[] } {
  const value = asBuffer(bytes);
  if (value.length < headLength) throw new Dhcp6DecodeError(base, `${name} needs at least ${headLength} bytes, has ${value.length}`);
  const options = scanOptions(value, headLength, value.length, base, `${name} options`);
  for (const nested of options) validateNested(nested.code, nested.data, nested.offset);
  return { value, options: options.map(({ code, data }) => ({ code, data })) };
}

export function decodeIaAddress(bytes: Uint8Array, base = 0): IaAddress {
  const { value, options } = withNestedOptions(bytes, base, 24, 'IAADDR');
  return {
    address: ipv6FromBytes(value, 0),
    preferredLifetime: value.readUInt32BE(16),
    validLifetime: value.readUInt32BE(20),
    options,
  };
}

export function encodeIaAddress(address: IaAddress): Buffer {
  const head = Buffer.alloc(24);
  ipv6ToBytes(address.address).copy(head, 0);
  head.writeUInt32BE(address.preferredLifetime >>> 0, 16);
  head.writeUInt32BE(address.validLifetime >>> 0, 20);
  return Buffer.concat([head, encodeOptions(address.options)]);
}

export interface IaNa {
  readonly iaid: number;
  readonly t1: number;
  readonly t2: number;
  readonly options: readonly Dhcp6Option[];
}

export function decodeIaNa(bytes: Uint8Array, base = 0): IaNa {
  const { value, options } = withNestedOptions(bytes, base, 12, 'IA_NA');
  return {
    iaid: value.readUInt32BE(0),
    t1: value.readUInt32BE(4),
    t2: value.readUInt32BE(8),
    options,
  };
}

export function encodeIaNa(ia: IaNa): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt32BE(ia.iaid >>> 0, 0);
  head.writeUInt32BE(ia.t1 >>> 0, 4);
  head.writeUInt32BE(ia.t2 >>> 0, 8);
  return Buffer.concat([head, encodeOptions(ia.options)]);
}

export function iaAddresses(ia: IaNa): IaAddress[] {
  return ia.options.filter((o) => o.code === Option.IAADDR).map((o) => decodeIaAddress(o.data));
}

export function statusOf(options: readonly Dhcp6Option[]): Status | undefined {
  const found = options.find((o) => o.code === Option.STATUS_CODE);
  return found ? decodeStatus(found.data) : undefined;
}

function validateNested(code: number, data: Buffer, offset: number): void {
  if (code === Option.IAADDR) decodeIaAddress(data, offset);
  else if (code === Option.STATUS_CODE) decodeStatus(data, offset);
}

// ---- ORO (6), elapsed time (8), client arch (61): lists of u16 ----

export function decodeUint16List(bytes: Uint8Array, base = 0, what = 'option'): number[] {
  const value = asBuffer(bytes);
  if (value.length % 2 !== 0) throw new Dhcp6DecodeError(base, `${what} has odd length ${value.length}, expected 16-bit values`);
  const list: number[] = [];
  for (let offset = 0; offset < value.length; offset += 2) list.push(value.readUInt16BE(offset));
  return list;
}

export function encodeUint16List(values: readonly number[]): Buffer {
  const buf = Buffer.alloc(values.length * 2);
  values.forEach((value, index) => buf.writeUInt16BE(value, index * 2));
  return buf;
}

/** Option 8 is in hundredths of a second; 0xffff means "longer than that". */
export function decodeElapsedTime(bytes: Uint8Array, base = 0): number {
  const value = asBuffer(bytes);
  if (value.length !== 2) throw new Dhcp6DecodeError(base, `elapsed time must be 2 bytes, has ${value.length}`);
  return value.readUInt16BE(0);
}

// ---- User class (15) and vendor class (16): length-prefixed opaque lists ----

function decodeOpaqueList(value: Buffer, start: number, base: number, what: string): Buffer[] {
  const items: Buffer[] = [];
  let offset = start;
  while (offset < value.length) {
    if (value.length - offset < 2) throw new Dhcp6DecodeError(base + offset, `${what}: a stray byte where a 2-byte length belongs`);
    const length = value.readUInt16BE(offset);
    if (offset + 2 + length > value.length) {
      throw new Dhcp6DecodeError(base + offset, `${what}: item claims ${length} bytes but only ${value.length - offset - 2} remain`);
    }
    items.push(value.subarray(offset + 2, offset + 2 + length));
    offset += 2 + length;
  }
  return items;
}

function encodeOpaqueList(items: readonly (string | Uint8Array)[]): Buffer {
  return Buffer.concat(
    items.map((item) => {
      const bytes = typeof item === 'string' ? Buffer.from(item, 'latin1') : asBuffer(item);
      const head = Buffer.alloc(2);
      head.writeUInt16BE(bytes.length, 0);
      return Buffer.concat([head, bytes]);
    }),
  );
}

/** Option 15 as text items, e.g. ['iPXE']. */
export function decodeUserClass(bytes: Uint8Array, base = 0): string[] {
  return decodeOpaqueList(asBuffer(bytes), 0, base, 'user class').map((item) => item.toString('latin1'));
}

export function encodeUserClass(classes: readonly string[]): Buffer {
  return encodeOpaqueList(classes);
}

export interface VendorClass {
  readonly enterprise: number;
  readonly data: readonly string[];
}

export function decodeVendorClass(bytes: Uint8Array, base = 0): VendorClass {
  const value = asBuffer(bytes);
  if (value.length < 4) throw new Dhcp6DecodeError(base, `vendor class needs a 4-byte enterprise number, has ${value.length} byte(s)`);
  return {
    enterprise: value.readUInt32BE(0),
    data: decodeOpaqueList(value, 4, base, 'vendor class').map((item) => item.toString('latin1')),
  };
}

export function encodeVendorClass(vendor: VendorClass): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(vendor.enterprise >>> 0, 0);
  return Buffer.concat([head, encodeOpaqueList(vendor.data)]);
}

// ---- DNS servers (23) ----

export function decodeAddressList(bytes: Uint8Array, base = 0, what = 'address list'): string[] {
  const value = asBuffer(bytes);
  if (value.length % 16 !== 0) throw new Dhcp6DecodeError(base, `${what} length ${value.length} is not a multiple of 16`);
  const list: string[] = [];
  for (let offset = 0; offset < value.length; offset += 16) list.push(ipv6FromBytes(value, offset));
  return list;
}

export function encodeAddressList(addresses: readonly string[]): Buffer {
  return Buffer.concat(addresses.map(ipv6ToBytes));
}

// ---- Boot file URL (59), parameters (60), NII (62) — RFC 5970 ----

export function decodeBootFileUrl(bytes: Uint8Array): string {
  return asBuffer(bytes).toString('utf8');
}

export function encodeBootFileUrl(url: string): Buffer {
  return Buffer.from(url, 'utf8');
}

export function decodeBootFileParams(bytes: Uint8Array, base = 0): string[] {
  return decodeOpaqueList(asBuffer(bytes), 0, base, 'boot file parameters').map((item) => item.toString('utf8'));
}

export function encodeBootFileParams(params: readonly string[]): Buffer {
  return encodeOpaqueList(params.map((param) => Buffer.from(param, 'utf8')));
}

/** RFC 5970 §3.4: interface type 1 = UNDI, then the major and minor revision. */
export interface Nii {
  readonly type: number;
  readonly major: number;
  readonly minor: number;
}

export function decodeNii(bytes: Uint8Array, base = 0): Nii {
  const value = asBuffer(bytes);
  if (value.length !== 3) throw new Dhcp6DecodeError(base, `network interface identifier must be 3 bytes, has ${value.length}`);
  return { type: value[0]!, major: value[1]!, minor: value[2]! };
}

export function encodeNii(nii: Nii): Buffer {
  return Buffer.from([nii.type, nii.major, nii.minor]);
}
