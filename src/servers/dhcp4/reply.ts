/**
 * Builds the DHCP replies real clients accept (see NETWORKING.md): option 53 first, padded to 300 bytes,
 * BOOTP file/sname and options 66/67 filled, siaddr and 54 = our address, 97 echoed, 175.176 to iPXE.
 */
import type { DhcpBootDecision } from '../../boot/dhcp-decision.js';
import type { DhcpClientFacts } from '../../boot/client-facts.js';
import { BOOTREPLY, MessageType, Option, type MessageTypeName } from '../../protocol/dhcp4/constants.js';
import {
  addresses,
  decodeEncapsulated,
  encodeIpxeNoPxeDhcp,
  encodePxeVendorOptions,
  uint32,
} from '../../protocol/dhcp4/options.js';
import type { DhcpOptions, DhcpPacket } from '../../protocol/dhcp4/packet.js';

export interface LeaseParameters {
  readonly subnetMask: string;
  readonly broadcastAddress: string;
  readonly leaseSeconds: number;
  readonly routers?: readonly string[];
  readonly dnsServers?: readonly string[];
  readonly domainName?: string;
}

export interface ReplyInput {
  readonly request: DhcpPacket;
  readonly facts: DhcpClientFacts;
  readonly messageType: Extract<MessageTypeName, 'OFFER' | 'ACK' | 'NAK'>;
  readonly serverAddress: string;
  /** Full mode: the address handed out; 0.0.0.0 for proxy replies and NAKs. */
  readonly yiaddr?: string;
  readonly lease?: LeaseParameters;
  readonly decision?: DhcpBootDecision;
  /**
   * `file` (default) puts the boot file in the reply; `steer` leaves it out so UEFI firmware asks our PXE
   * boot server on UDP 4011 (the BINL path in EDK2's PXE stack).
   */
  readonly delivery?: 'file' | 'steer';
  /** A boot-server (4011) reply carries back the boot item (43.71) the request named. */
  readonly echoBootItem?: boolean;
  readonly logServers?: readonly string[];
  readonly message?: string;
}

const FILE_FIELD_MAX = 127;

/**
 * The option values every reply repeats (our address, the lease's mask, times, routers), encoded once:
 * `encode` copies them into each reply, so one Buffer serves them all. Bounded: a server has a handful.
 */
const encodedOnce = new Map<string, Buffer>();
function once(key: string, make: () => Buffer): Buffer {
  let value = encodedOnce.get(key);
  if (!value) {
    if (encodedOnce.size >= 256) encodedOnce.clear();
    value = make();
    encodedOnce.set(key, value);
  }
  return value;
}
const addressesOnce = (list: readonly string[]) => once(`a ${list.join(' ')}`, () => addresses(...list));
const uint32Once = (value: number) => once(`n ${value}`, () => uint32(value));
const textOnce = (text: string) => once(`t ${text}`, () => Buffer.from(text, 'latin1'));
const messageTypes = new Map(Object.entries(MessageType).map(([name, code]) => [name, Buffer.from([code])]));
const IPXE_NO_PXEDHCP = encodeIpxeNoPxeDhcp();

export function buildReply(input: ReplyInput): DhcpPacket {
  const { request, facts, serverAddress } = input;
  const options = new Map<number, Buffer>();
  options.set(Option.MESSAGE_TYPE, messageTypes.get(input.messageType)!);
  options.set(Option.SERVER_ID, addressesOnce([serverAddress]));
  if (input.messageType === 'NAK') {
    if (input.message) options.set(Option.MESSAGE, Buffer.from(input.message, 'latin1'));
    return replyPacket(request, '0.0.0.0', '0.0.0.0', '0.0.0.0', '', options);
  }

  const lease = input.lease;
  if (lease) {
    options.set(Option.LEASE_TIME, uint32Once(lease.leaseSeconds));
    options.set(Option.RENEWAL_TIME, uint32Once(Math.floor(lease.leaseSeconds / 2)));
    options.set(Option.REBINDING_TIME, uint32Once(Math.floor((lease.leaseSeconds * 7) / 8)));
    options.set(Option.SUBNET_MASK, addressesOnce([lease.subnetMask]));
    options.set(Option.BROADCAST_ADDRESS, addressesOnce([lease.broadcastAddress]));
    if (lease.routers?.length) options.set(Option.ROUTER, addressesOnce(lease.routers));
    if (lease.dnsServers?.length) options.set(Option.DNS_SERVERS, addressesOnce(lease.dnsServers));
    if (lease.domainName) options.set(Option.DOMAIN_NAME, textOnce(lease.domainName));
  }
  if (input.logServers?.length) options.set(Option.LOG_SERVERS, addressesOnce(input.logServers));

  let file = '';
  let siaddr = '0.0.0.0';
  const decision = input.decision;
  if (decision?.action === 'boot') {
    options.set(Option.VENDOR_CLASS, Buffer.from(decision.vendorClass, 'latin1'));
    siaddr = serverAddress;
    const withFile = input.delivery !== 'steer';
    if (withFile) {
      if (decision.transport === 'tftp') options.set(Option.TFTP_SERVER_NAME, Buffer.from(serverAddress, 'latin1'));
      options.set(Option.BOOTFILE_NAME, Buffer.from(decision.bootFile, 'latin1'));
      if (Buffer.byteLength(decision.bootFile, 'latin1') <= FILE_FIELD_MAX) file = decision.bootFile;
    }
    if (facts.firmware === 'bios-pxe' && withFile) {
      // Discovery control bit 3: boot the file named in this offer, no boot-server discovery or menu.
      options.set(Option.VENDOR_SPECIFIC, encodePxeVendorOptions({ discoveryControl: 8 }));
    }
    const requestVendor = request.options.get(Option.VENDOR_SPECIFIC);
    if (input.echoBootItem && requestVendor) {
      // A boot-server request names its boot item (43.71); the reply must carry it back.
      const item = safeBootItem(requestVendor);
      if (item) options.set(Option.VENDOR_SPECIFIC, Buffer.concat([Buffer.from([71, item.length]), item, Buffer.from([255])]));
    }
  }
  if (facts.isIpxe) options.set(Option.IPXE, IPXE_NO_PXEDHCP);
  const uuid = request.options.get(Option.CLIENT_UUID);
  if (uuid && decision?.action === 'boot') options.set(Option.CLIENT_UUID, uuid);

  return replyPacket(request, request.ciaddr, input.yiaddr ?? '0.0.0.0', siaddr, file, options);
}

/** Every reply echoes the request's hardware fields, xid, flags and relay address. */
function replyPacket(request: DhcpPacket, ciaddr: string, yiaddr: string, siaddr: string, file: string, options: DhcpOptions): DhcpPacket {
  return {
    op: BOOTREPLY,
    htype: request.htype,
    hlen: request.hlen,
    hops: 0,
    xid: request.xid,
    secs: 0,
    flags: request.flags,
    ciaddr,
    yiaddr,
    siaddr,
    giaddr: request.giaddr,
    chaddr: request.chaddr,
    sname: '',
    file,
    options,
  };
}

function safeBootItem(vendor: Buffer): Buffer | undefined {
  try {
    const item = decodeEncapsulated(vendor).get(71);
    return item?.length === 4 ? item : undefined;
  } catch {
    return undefined;
  }
}
