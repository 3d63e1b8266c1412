/** What a DHCP request tells about the machine asking: firmware family, architecture, iPXE or not. */
import { ClientArch, Option, clientArchNames, type MessageTypeName } from '../protocol/dhcp4/constants.js';
import {
  decodeClientArch,
  decodeClientUuid,
  decodeIpxeOptions,
  decodeUserClass,
  decodeVendorClass,
  messageTypeOf,
  readAddressOption,
  readString,
  type IpxeInfo,
  type VendorClass,
} from '../protocol/dhcp4/options.js';
import type { DhcpPacket } from '../protocol/dhcp4/packet.js';
import { macFromBytes, type Mac } from '../protocol/mac.js';

export type FirmwareKind = 'bios-pxe' | 'uefi-pxe' | 'uefi-http' | 'ipxe' | 'other';

export interface DhcpClientFacts {
  readonly mac: Mac;
  readonly messageType: MessageTypeName | undefined;
  readonly vendorClass?: VendorClass;
  /** From option 93, else from the `Arch:` field of option 60. */
  readonly arch?: number;
  readonly userClasses: readonly string[];
  readonly userClassForm?: 'raw' | 'rfc3004';
  /** User class `iPXE` in either form, or iPXE's option 175. */
  readonly isIpxe: boolean;
  readonly ipxe?: IpxeInfo;
  readonly uuid?: string;
  readonly requestedIp?: string;
  readonly serverId?: string;
  readonly hostname?: string;
  readonly firmware: FirmwareKind;
}

const uefiArches = new Set<number>([6, 7, 8, 9, 10, 11]);
const httpArches = new Set<number>([15, 16, 18, 19]);

function classifyFirmware(isIpxe: boolean, arch: number | undefined, vendor: VendorClass | undefined): FirmwareKind {
  if (isIpxe) return 'ipxe';
  if (vendor?.family === 'HTTPClient' || (arch !== undefined && httpArches.has(arch))) return 'uefi-http';
  if (vendor?.family === 'PXEClient') return arch !== undefined && uefiArches.has(arch) ? 'uefi-pxe' : 'bios-pxe';
  return 'other';
}

export function readClientFacts(packet: DhcpPacket): DhcpClientFacts {
  const vendorBytes = packet.options.get(Option.VENDOR_CLASS);
  const vendorClass = vendorBytes ? decodeVendorClass(vendorBytes) : undefined;
  const archBytes = packet.options.get(Option.CLIENT_ARCH);
  const arch = archBytes ? decodeClientArch(archBytes)[0] : vendorClass?.arch;
  const userClassBytes = packet.options.get(Option.USER_CLASS);
  const userClass = userClassBytes ? decodeUserClass(userClassBytes) : undefined;
  const ipxeBytes = packet.options.get(Option.IPXE);
  let ipxe: IpxeInfo | undefined;
  try {
    ipxe = ipxeBytes ? decodeIpxeOptions(ipxeBytes) : undefined;
  } catch {
    // A damaged 175 still says "this is iPXE"; its details are just unknown.
    ipxe = { features: [] };
  }
  const userClasses = userClass?.classes ?? [];
  const isIpxe = userClasses.includes('iPXE') || ipxe !== undefined;
  const uuidBytes = packet.options.get(Option.CLIENT_UUID);
  const uuid = uuidBytes ? decodeClientUuid(uuidBytes)?.uuid : undefined;
  const requestedIp = readAddressOption(packet, Option.REQUESTED_IP);
  const serverId = readAddressOption(packet, Option.SERVER_ID);
  const hostname = readString(packet, Option.HOSTNAME);
  // One object literal, absent facts left undefined: this runs for every packet.
  return {
    mac: macFromBytes(packet.chaddr),
    messageType: messageTypeOf(packet),
    userClasses,
    isIpxe,
    firmware: classifyFirmware(isIpxe, arch, vendorClass),
    vendorClass,
    arch,
    userClassForm: userClass?.form,
    ipxe,
    uuid,
    requestedIp,
    serverId,
    hostname: hostname || undefined,
  };
}

export function isNetbootClient(facts: DhcpClientFacts): boolean {
  return facts.vendorClass?.family !== undefined || facts.isIpxe;
}

export function describeFirmware(facts: DhcpClientFacts): string {
  const arch = facts.arch === undefined ? '' : ` ${clientArchNames[facts.arch] ?? `arch ${facts.arch}`}`;
  switch (facts.firmware) {
    case 'ipxe':
      return `iPXE${arch}`;
    case 'bios-pxe':
      return facts.arch === undefined || facts.arch === ClientArch.BIOS ? 'BIOS PXE' : `PXE${arch}`;
    case 'uefi-pxe':
      return `PXE${arch}`;
    case 'uefi-http':
      return `HTTP boot${arch}`;
    default:
      return 'DHCP client';
  }
}
