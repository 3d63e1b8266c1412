/**
 * A transfer's sockets: its TID is a fresh port on the address the request came to.
 *
 * Where it can, the transfer talks to its client over a socket *connected* to it, as tftpd-hpa's does:
 * the kernel then keeps the route instead of looking it up for every DATA packet (measured ~1.5 µs of a
 * windowsize-1 round trip over a veth). A connected socket hears nobody else, though, and RFC 1350 wants
 * strangers on the TID answered with error 5; so a second socket stays bound, unconnected, to the same
 * address and port: the kernel hands the client's packets to the connected one (an exact match wins)
 * and everything else to the catcher.
 *
 * Port sharing needs SO_REUSEADDR on both. The first socket binds port 0 *without* it, so the kernel
 * picks a port nobody holds, and only then allows sharing (through koffi: Node sets the option only
 * before bind). Binding port 0 with the option on could return a port another transfer already shares.
 */
import type { Socket } from 'node:dgram';
import { descriptorOf } from '../net/sockaddr.js';
import { setIntSocketOption, SOL_SOCKET, SO_REUSEADDR } from '../net/socket-options.js';
import { answerStranger } from './transfer.js';
import { bindUdpSocket, closeUdpSocket, connectUdpSocket, newUdpSocket } from './udp-socket.js';
import type { TransferPeer } from './transfer.js';

export interface TransferSockets {
  /** Where the transfer sends and receives. */
  readonly socket: Socket;
  /** `socket` is connected to the peer (and a catcher answers strangers). */
  readonly connected: boolean;
  close(): Promise<void>;
}

function setPortSharing(socket: Socket, on: boolean): boolean {
  const fd = descriptorOf(socket);
  return fd !== undefined && setIntSocketOption(fd, SOL_SOCKET, SO_REUSEADDR, on ? 1 : 0);
}

/** Rejects when not even the first socket could be bound (the caller reports it to the client). */
export async function openTransferSockets(localAddress: string, peer: TransferPeer): Promise<TransferSockets> {
  const first = newUdpSocket(localAddress);
  first.on('error', () => undefined);
  try {
    await bindUdpSocket(first, localAddress, 0);
  } catch (error) {
    await closeUdpSocket(first);
    throw error;
  }
  const alone: TransferSockets = { socket: first, connected: false, close: () => closeUdpSocket(first) };
  if (!setPortSharing(first, true)) return alone;

  const connected = newUdpSocket(localAddress, { reuseAddr: true });
  connected.on('error', () => undefined);
  try {
    await bindUdpSocket(connected, localAddress, first.address().port);
    await connectUdpSocket(connected, peer.address, peer.port);
  } catch {
    await closeUdpSocket(connected);
    // Alone after all: its port stays its own, as an unshared socket's is.
    setPortSharing(first, false);
    return alone;
  }
  const catcher = first;
  catcher.on('message', (_message, remote) => answerStranger(catcher, remote));
  return {
    socket: connected,
    connected: true,
    close: async () => {
      await Promise.all([closeUdpSocket(connected), closeUdpSocket(catcher)]);
    },
  };
}
