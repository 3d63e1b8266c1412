/**
 * UDP segmentation offload (Linux ≥ 4.18, `UDP_SEGMENT`): one send of several TFTP DATA packets laid end
 * to end leaves as that many datagrams, each `segmentSize` bytes (the last may be shorter). A window of
 * 16 blocks then costs one trip through the network stack instead of 16, which is where a sender's time
 * goes: measured at 12–20 µs of kernel time per datagram over a veth, in tftpd-hpa and in Node alike.
 *
 * Node has no API for the option, so it is set through koffi (already a dependency for the DHCP sockets)
 * on the descriptor of the dgram socket. Anything missing (not Linux, koffi not loadable, no descriptor)
 * means no segmentation: the caller sends packet by packet, as before.
 */
import type { Socket } from 'node:dgram';
import { descriptorOf } from '../net/sockaddr.js';
import { setIntSocketOption, SOL_UDP, UDP_SEGMENT } from '../net/socket-options.js';

/** The kernel's UDP_MAX_SEGMENTS was 64 before Linux 5.x raised it; stay under the older limit. */
export const MAX_SEGMENTS = 64;
/** Largest UDP payload over IPv4 (65535 − 20 − 8); IPv6 allows a little more. */
export const MAX_GSO_PAYLOAD = 65507;
/**
 * The option applies to every send on the socket, OACK and ERROR included: a packet longer than one
 * segment would leave cut in pieces. Ours stay under ~100 bytes, so segment only when a DATA packet is at
 * least this long (tiny blocks gain nothing from it anyway).
 */
export const MIN_SEGMENT_SIZE = 260;

/** Turns segmentation on for a bound socket; true when every later multi-packet send is split by the kernel. */
export function enableUdpSegmentation(socket: Socket, segmentSize: number): boolean {
  if (segmentSize < MIN_SEGMENT_SIZE) return false;
  return setSegmentSize(socket, segmentSize);
}

/**
 * Turns it off again. Needed after a failed segmented send: with the option set the kernel refuses every
 * send whose segment would not fit the path MTU unfragmented (EMSGSIZE), single packets included, so a
 * block size above the MTU (8192 over Ethernet) can only go out with the option off.
 */
export function disableUdpSegmentation(socket: Socket): boolean {
  return setSegmentSize(socket, 0);
}

function setSegmentSize(socket: Socket, segmentSize: number): boolean {
  const fd = descriptorOf(socket);
  return fd !== undefined && setIntSocketOption(fd, SOL_UDP, UDP_SEGMENT, segmentSize);
}
