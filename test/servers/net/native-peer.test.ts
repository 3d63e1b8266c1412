import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { nativePeer } from '../../../src/servers/net/native-peer.js';

const sockets: Socket[] = [];

async function bound(type: 'udp4' | 'udp6', address: string): Promise<Socket> {
  const socket = createSocket({ type, ipv6Only: type === 'udp6' });
  sockets.push(socket);
  await new Promise<void>((resolve) => socket.bind(0, address, resolve));
  return socket;
}

afterEach(() => {
  for (const socket of sockets.splice(0)) socket.close();
});

describe('nativePeer', () => {
  it.each([
    ['udp4', '127.0.0.1'],
    ['udp6', '::1'],
  ] as const)('sends from the socket’s own address and port (%s)', async (type, address) => {
    const sender = await bound(type, address);
    const receiver = await bound(type, address);
    const peer = nativePeer(sender, address, receiver.address().port);
    expect(peer).toBeDefined();
    const got = new Promise<[Buffer, number]>((resolve) => receiver.once('message', (message, remote) => resolve([message, remote.port])));
    expect(peer!.send(Buffer.from('\x00\x03\x00\x01block one'))).toBe(true);
    const [message, port] = await got;
    expect(message.toString('latin1')).toBe('\x00\x03\x00\x01block one');
    expect(port).toBe(sender.address().port);
  });

  it.each([
    ['udp4', '127.0.0.1'],
    ['udp6', '::1'],
  ] as const)('receives blocking, tells the peer from a stranger, times out, and gives the socket back (%s)', async (type, address) => {
    const ours = await bound(type, address);
    const client = await bound(type, address);
    const stranger = await bound(type, address);
    const peer = nativePeer(ours, address, client.address().port)!;
    const port = ours.address().port;
    await new Promise<void>((resolve) => client.send(Buffer.from([0, 4, 0, 1]), port, address, () => resolve()));
    await new Promise<void>((resolve) => stranger.send(Buffer.from([0, 4, 0, 9]), port, address, () => resolve()));

    expect(peer.beginBlocking()).toBe(true);
    try {
      expect(peer.receive(1000)).toBe(4);
      expect([...peer.inbox.subarray(0, 4)]).toEqual([0, 4, 0, 1]);
      expect(peer.lastFromPeer()).toBe(true);
      expect(peer.receive(1000)).toBe(4);
      expect([...peer.inbox.subarray(0, 4)]).toEqual([0, 4, 0, 9]);
      expect(peer.lastFromPeer()).toBe(false);
      expect(peer.lastSender()).toEqual({ address, port: stranger.address().port });
      const started = performance.now();
      expect(peer.receive(30)).toBe(-1);
      const waited = performance.now() - started;
      expect(waited).toBeGreaterThanOrEqual(25);
      expect(waited).toBeLessThan(1000);
    } finally {
      peer.endBlocking();
    }
    // Back on the event loop: dgram receives again.
    const again = new Promise<Buffer>((resolve) => ours.once('message', resolve));
    client.send(Buffer.from([0, 4, 0, 2]), port, address);
    expect([...(await again)]).toEqual([0, 4, 0, 2]);
  });

  it('reports failure rather than throwing when the kernel refuses the packet', async () => {
    const sender = await bound('udp4', '127.0.0.1');
    // 70,000 bytes cannot be one UDP datagram: EMSGSIZE.
    expect(nativePeer(sender, '127.0.0.1', 9)!.send(Buffer.alloc(70_000))).toBe(false);
  });

  it('declines a peer it cannot address natively (a named zone id), so dgram sends instead', async () => {
    const sender = await bound('udp6', '::1');
    expect(nativePeer(sender, 'fe80::1%lo', 69)).toBeUndefined();
  });
});
