/**
 * A UDP relay on loopback that loses packets at random, for TFTP: clients send their request to the
 * relay's port; the relay forwards it from a socket of its own per client, and for each server TID that
 * answers it opens a client-facing socket, so the client sees one TID per transfer as usual. Every packet
 * in either direction is dropped with probability `lossPercent / 100` (seeded, so a run can be replayed).
 */
import { createSocket, type Socket } from 'node:dgram';
import type { Address } from './raw-client.js';
import { seededRandom } from '../../support/seeded-random.js';

export interface LossyRelay {
  readonly address: Address;
  readonly stats: { forwarded: number; dropped: number };
  close(): Promise<void>;
}

export interface RelayOptions {
  readonly lossPercent: number;
  readonly seed?: number;
  /** Packets exempt from the random loss. */
  readonly spare?: (message: Buffer) => boolean;
  /** Deterministic loss on top of the random one. */
  readonly drop?: (message: Buffer, toServer: boolean) => boolean;
}

async function bound(): Promise<Socket> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return socket;
}

export async function createLossyRelay(server: Address, options: RelayOptions): Promise<LossyRelay> {
  const next = seededRandom(options.seed ?? 1);
  const stats = { forwarded: 0, dropped: 0 };
  const sockets = new Set<Socket>();
  const front = await bound();
  sockets.add(front);
  // Promises, set before any await, so a request repeated while its socket is being bound reuses it.
  const clients = new Map<string, Promise<Socket>>();

  const forward = (from: Socket, message: Buffer, to: Address, toServer: boolean): void => {
    const lose = options.drop?.(message, toServer) || (!options.spare?.(message) && next() * 100 < options.lossPercent);
    if (lose) {
      stats.dropped += 1;
      return;
    }
    stats.forwarded += 1;
    from.send(message, to.port, to.address);
  };

  const upstreamFor = (remote: Address): Promise<Socket> => {
    const key = `${remote.address}:${remote.port}`;
    let upstream = clients.get(key);
    if (upstream) return upstream;
    upstream = bound().then((socket) => {
      sockets.add(socket);
      const downstream = new Map<number, Promise<Socket>>();
      socket.on('message', async (reply, tid) => {
        let down = downstream.get(tid.port);
        if (!down) {
          down = bound().then((clientSide) => {
            sockets.add(clientSide);
            clientSide.on('message', (fromClient) => forward(socket, fromClient, { address: server.address, port: tid.port }, true));
            return clientSide;
          });
          downstream.set(tid.port, down);
        }
        forward(await down, reply, remote, false);
      });
      return socket;
    });
    clients.set(key, upstream);
    return upstream;
  };

  front.on('message', async (message, remote) => {
    forward(await upstreamFor({ address: remote.address, port: remote.port }), message, server, true);
  });

  return {
    address: { address: '127.0.0.1', port: front.address().port },
    stats,
    async close() {
      await Promise.all([...sockets].map((socket) => new Promise<void>((resolve) => socket.close(() => resolve()))));
    },
  };
}
