import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { directSender } from '../../../src/servers/net/direct-send.js';

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

describe('directSender', () => {
  it.each([
    ['udp4', '127.0.0.1'],
    ['udp6', '::1'],
  ] as const)('sends datagrams from the socket’s own address and port (%s)', async (type, address) => {
    const sender = await bound(type, address);
    const receiver = await bound(type, address);
    const send = directSender(sender, address, receiver.address().port);
    expect(send).toBeDefined();
    const got = new Promise<[Buffer, number]>((resolve) => receiver.once('message', (message, remote) => resolve([message, remote.port])));
    expect(send!(Buffer.from('\x00\x03\x00\x01block one'))).toBe(true);
    const [message, port] = await got;
    expect(message.toString('latin1')).toBe('\x00\x03\x00\x01block one');
    expect(port).toBe(sender.address().port);
  });

  it('reports failure rather than throwing when the kernel refuses the packet', async () => {
    const sender = await bound('udp4', '127.0.0.1');
    const send = directSender(sender, '127.0.0.1', 9);
    // 70,000 bytes cannot be one UDP datagram: EMSGSIZE.
    expect(send!(Buffer.alloc(70_000))).toBe(false);
  });

  it('declines a peer it cannot address natively (a named zone id), so dgram sends instead', async () => {
    const sender = await bound('udp6', '::1');
    expect(directSender(sender, 'fe80::1%lo', 69)).toBeUndefined();
  });
});
