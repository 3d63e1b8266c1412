/** What a DHCPv6 message tells about the machine asking: identity, firmware family, architecture, iPXE or not. */
import { Option, messageTypeName, type MessageTypeName } from '../protocol/dhcp6/constants.js';
import {
  decodeDuid,
  decodeIaNa,
  decodeNii,
  decodeUint16List,
  decodeUserClass,
  decodeVendorClass,
  duidHex,
  iaAddresses,
  type Duid,
  type Nii,
} from '../protocol/dhcp6/options.js';
import { findOption, findOptions, type Dhcp6ClientServerMessage } from '../protocol/dhcp6/packet.js';
import { decodeVendorClass as decodePxeVendorString, type VendorClass } from '../protocol/dhcp4/options.js';
import type { Mac } from '../protocol/mac.js';
import type { FirmwareKind } from './client-facts.js';
import { duidUuidOrder, macFromDuid, macFromLinkLocal, uuidFromDuid } from './dhcp6-identity.js';

export interface Dhcp6IaRequest {
  readonly iaid: number;
  /** Addresses the client asks to keep (Request/Renew/Rebind/Confirm/Release/Decline). */
  readonly addresses: readonly string[];
}

export interface Dhcp6ClientFacts {
  readonly messageType: MessageTypeName | undefined;
  readonly transactionId: number;
  readonly duid?: Duid;
  /** Hex of the whole client DUID: the lease key. */
  readonly duidHex?: string;
  /** The SMBIOS UUID in RFC 4122 text, whichever byte order this firmware used. */
  readonly uuid?: string;
  /** From a DUID-LL(T), else from an EUI-64 link-local source address. */
  readonly mac?: Mac;
  readonly serverDuidHex?: string;
  readonly enterprise?: number;
  /** The PXEClient / HTTPClient string of option 16, parsed as DHCPv4's option 60. */
  readonly vendorClass?: VendorClass;
  readonly arch?: number;
  readonly arches: readonly number[];
  readonly userClasses: readonly string[];
  readonly isIpxe: boolean;
  readonly nii?: Nii;
  readonly requestedOptions: readonly number[];
  readonly rapidCommit: boolean;
  readonly iaNa: readonly Dhcp6IaRequest[];
  readonly firmware: FirmwareKind;
}

const uefiArches = new Set<number>([6, 7, 8, 9, 10, 11]);
const httpArches = new Set<number>([15, 16, 18, 19]);

function classify(isIpxe: boolean, arch: number | undefined, vendor: VendorClass | undefined): FirmwareKind {
  if (isIpxe) return 'ipxe';
  if (vendor?.family === 'HTTPClient' || (arch !== undefined && httpArches.has(arch))) return 'uefi-http';
  if (vendor?.family === 'PXEClient') return arch !== undefined && uefiArches.has(arch) ? 'uefi-pxe' : 'bios-pxe';
  return 'other';
}

/** `message` was already validated by decode(), so the typed readers here cannot throw. */
export function readDhcp6ClientFacts(message: Dhcp6ClientServerMessage, peerAddress?: string): Dhcp6ClientFacts {
  const clientId = findOption(message, Option.CLIENT_ID);
  const duid = clientId ? decodeDuid(clientId) : undefined;
  const serverId = findOption(message, Option.SERVER_ID);
  const userClassBytes = findOption(message, Option.USER_CLASS);
  const userClasses = userClassBytes ? decodeUserClass(userClassBytes) : [];
  const isIpxe = userClasses.includes('iPXE');
  const vendorBytes = findOption(message, Option.VENDOR_CLASS);
  const vendor = vendorBytes ? decodeVendorClass(vendorBytes) : undefined;
  const vendorText = vendor?.data.find((item) => /^(PXE|HTTP)Client/.test(item)) ?? vendor?.data[0];
  const vendorClass = vendorText !== undefined ? decodePxeVendorString(Buffer.from(vendorText, 'latin1')) : undefined;
  const archBytes = findOption(message, Option.CLIENT_ARCH_TYPE);
  const arches = archBytes ? decodeUint16List(archBytes) : [];
  const arch = arches[0] ?? vendorClass?.arch;
  const niiBytes = findOption(message, Option.NII);
  const oro = findOption(message, Option.ORO);
  const uuid = duid ? uuidFromDuid(duid, duidUuidOrder({ isIpxe })) : undefined;
  const mac = (duid && macFromDuid(duid)) ?? (peerAddress ? macFromLinkLocal(peerAddress) : undefined);
  const iaNa = findOptions(message, Option.IA_NA).map((data) => {
    const ia = decodeIaNa(data);
    return { iaid: ia.iaid, addresses: iaAddresses(ia).map((address) => address.address) };
  });
  return {
    messageType: messageTypeName(message.msgType),
    transactionId: message.transactionId,
    arches,
    userClasses,
    isIpxe,
    requestedOptions: oro ? decodeUint16List(oro) : [],
    rapidCommit: findOption(message, Option.RAPID_COMMIT) !== undefined,
    iaNa,
    firmware: classify(isIpxe, arch, vendorClass),
    ...(duid && { duid }),
    ...(clientId && { duidHex: duidHex(clientId) }),
    ...(serverId && { serverDuidHex: duidHex(serverId) }),
    ...(uuid && { uuid }),
    ...(mac && { mac }),
    ...(vendor && { enterprise: vendor.enterprise }),
    ...(vendorClass && { vendorClass }),
    ...(arch !== undefined && { arch }),
    ...(niiBytes && { nii: decodeNii(niiBytes) }),
  };
}

export function isNetboot6Client(facts: Dhcp6ClientFacts): boolean {
  return facts.vendorClass?.family !== undefined || facts.isIpxe;
}
