/** dgram sockets as the TFTP server uses them: address literals only, bound before use. */
import { createSocket, type Socket, type SocketOptions } from 'node:dgram';
import { lookup as dnsLookup } from 'node:dns';
import { isIP } from 'node:net';

/**
 * dgram resolves even an IP literal through dns.lookup, which answers on the next tick: one deferred
 * callback per packet sent. Addresses here are always literals, so answer at once.
 */
const literalLookup = ((hostname: string, options: unknown, callback: (error: Error | null, address: string, family: number) => void) => {
  const family = isIP(hostname);
  if (family !== 0) callback(null, hostname, family);
  else dnsLookup(hostname, options as never, callback as never);
}) as unknown as SocketOptions['lookup'];

export function newUdpSocket(address: string, options: { reuseAddr?: boolean } = {}): Socket {
  const reuseAddr = options.reuseAddr ?? false;
  return isIP(address) === 6
    ? createSocket({ type: 'udp6', ipv6Only: true, lookup: literalLookup, reuseAddr })
    : createSocket({ type: 'udp4', lookup: literalLookup, reuseAddr });
}

export function bindUdpSocket(socket: Socket, address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => {
      socket.off('listening', onListening);
      reject(error);
    };
    const onListening = (): void => {
      socket.off('error', onError);
      resolve();
    };
    // Attached before bind: with a synchronous lookup, bind can report either event before it returns.
    socket.once('error', onError);
    socket.once('listening', onListening);
    socket.bind({ address, port, exclusive: true });
  });
}

export function connectUdpSocket(socket: Socket, address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.connect(port, address, (error?: Error) => (error ? reject(error) : resolve()));
  });
}

export function closeUdpSocket(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve();
    }
  });
}
