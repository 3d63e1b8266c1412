/**
 * One machine across DHCPv6 stages. The registry keys on MAC, but a DHCPv6 client identifies itself by
 * DUID, and firmware disagree on what goes in it: iPXE sends DUID-UUID with the SMBIOS UUID in RFC 4122
 * order (what `-uuid` / dmidecode show), OVMF sends the same UUID with its first three fields byte-swapped
 * (the SMBIOS little-endian layout, as DHCPv4 option 97 carries it). Measured in the lab, see
 * test/fixtures/dhcp6/README.md. So the UUID is normalised by who sent it, and where the sender is unknown
 * `uuidMatchKey` compares both orders at once.
 */
import type { Duid } from '../protocol/dhcp6/options.js';
import { HARDWARE_ETHERNET } from '../protocol/dhcp6/constants.js';
import { macFromBytes, type Mac } from '../protocol/mac.js';

/** How a DUID-UUID's 16 bytes are laid out. */
export type UuidByteOrder = 'rfc4122' | 'smbios';

function format(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function swapFields(bytes: Uint8Array): Buffer {
  const out = Buffer.from(bytes);
  out.subarray(0, 4).reverse();
  out.subarray(4, 6).reverse();
  out.subarray(6, 8).reverse();
  return out;
}

/** The UUID in RFC 4122 text (as `dmidecode` prints it), or undefined for a non-UUID DUID. */
export function uuidFromDuid(duid: Duid, order: UuidByteOrder): string | undefined {
  if (duid.type !== 'uuid' || duid.uuid.length !== 16) return undefined;
  const bytes = order === 'smbios' ? swapFields(duid.uuid) : Buffer.from(duid.uuid);
  return format(bytes.toString('hex'));
}

/** DHCPv4 option 97 carries the SMBIOS layout too (see test/fixtures/dhcp4/README.md): same conversion. */
export function uuidFromSmbiosBytes(bytes: Uint8Array): string | undefined {
  return bytes.length === 16 ? format(swapFields(bytes).toString('hex')) : undefined;
}

/** iPXE writes RFC 4122 order; EDK2-based firmware copies the SMBIOS bytes. */
export function duidUuidOrder(sender: { readonly isIpxe: boolean }): UuidByteOrder {
  return sender.isIpxe ? 'rfc4122' : 'smbios';
}

/**
 * The same key for a UUID and its field-swapped twin: the lesser of the two texts. Two different machines
 * collide only if one's UUID is exactly the other's swapped, which no real allocation produces.
 */
export function uuidMatchKey(uuid: string): string {
  const hex = uuid.replace(/-/g, '').toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(hex)) return uuid.toLowerCase();
  const plain = format(hex);
  const swapped = format(swapFields(Buffer.from(hex, 'hex')).toString('hex'));
  return plain < swapped ? plain : swapped;
}

/** DUID-LL and DUID-LLT over Ethernet name the MAC outright. */
export function macFromDuid(duid: Duid): Mac | undefined {
  if ((duid.type === 'll' || duid.type === 'llt') && duid.hardwareType === HARDWARE_ETHERNET && duid.linkLayerAddress.length === 6) {
    return macFromBytes(duid.linkLayerAddress);
  }
  return undefined;
}

/**
 * A link-local address formed by modified EUI-64 (RFC 4291 appendix A) gives the MAC back: firmware
 * (iPXE, EDK2) always forms theirs that way; an address whose middle is not ff:fe says nothing.
 */
export function macFromLinkLocal(address: string): Mac | undefined {
  const match = /^fe80::([0-9a-f]{1,4}):([0-9a-f]{1,4}):([0-9a-f]{1,4}):([0-9a-f]{1,4})(%.*)?$/i.exec(address);
  if (!match) return undefined;
  const groups = match.slice(1, 5).map((group) => Number.parseInt(group!, 16));
  const bytes = Buffer.alloc(8);
  groups.forEach((group, index) => bytes.writeUInt16BE(group, index * 2));
  if (bytes[3] !== 0xff || bytes[4] !== 0xfe) return undefined;
  return macFromBytes(Buffer.from([bytes[0]! ^ 0x02, bytes[1]!, bytes[2]!, bytes[5]!, bytes[6]!, bytes[7]!]));
}
