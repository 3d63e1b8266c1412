// The HTTP listener's own bounds against a real server on loopback: a client trickling its headers is cut
// off, one address cannot hold every connection, and refusals are summed into one notice.
import { writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONNECTION_LIMITS, type ConnectionLimits } from '../../../src/servers/http/connection-limits.js';
import { ofKind, rawGet, startServer, tempDir, waitFor, type RunningServer } from './fixtures.js';

let running: RunningServer | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await running?.close();
  running = undefined;
});

async function start(limits: Partial<ConnectionLimits>): Promise<RunningServer> {
  running = await startServer({ roots: [], connectionLimits: { ...DEFAULT_CONNECTION_LIMITS, ...limits } });
  return running;
}

/** A connected socket from `localAddress`, and a promise of when (ms after connecting) the server closed it. */
async function open(port: number, localAddress = '127.0.0.1'): Promise<{ socket: Socket; closed: Promise<number> }> {
  const socket = connect({ host: '127.0.0.1', port, localAddress });
  sockets.push(socket);
  socket.on('error', () => {});
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const at = Date.now();
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - at)));
  return { socket, closed };
}

/** When the socket closed, or Infinity if it is still open after `ms`. */
function within(closed: Promise<number>, ms: number): Promise<number> {
  return Promise.race([closed, new Promise<number>((resolve) => setTimeout(() => resolve(Infinity), ms))]);
}

describe('HTTP connection limits', () => {
  it('closes a connection whose headers do not arrive in time, and serves the next client', async () => {
    const server = await start({ headersTimeoutMs: 1000 });
    const slow = await open(server.server.port);
    slow.socket.write('GET /boot.ipxe HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    const trickle = setInterval(() => slow.socket.writable && slow.socket.write('a'), 200);
    try {
      expect(await within(slow.closed, 5000)).toBeLessThan(3500);
    } finally {
      clearInterval(trickle);
    }
    expect((await rawGet(server.server.port, '/boot.ipxe')).status).toBe(200);
  });

  it('one address holds at most maxConnectionsPerAddress; another address is still served; the refusals become one notice', async () => {
    const server = await start({ maxConnectionsPerAddress: 4 });
    const held = await Promise.all(Array.from({ length: 4 }, () => open(server.server.port)));
    const refused = await Promise.all(Array.from({ length: 3 }, () => open(server.server.port)));
    for (const { closed } of refused) expect(await within(closed, 2000)).toBeLessThan(1000);
    const response = await new Promise<number>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: server.server.port, localAddress: '127.0.0.2' }, () => socket.write('GET /boot.ipxe HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'));
      sockets.push(socket);
      socket.once('data', (chunk) => resolve(Number(chunk.toString('latin1').split(' ')[1])));
      socket.once('error', reject);
    });
    expect(response).toBe(200);
    for (const { socket } of held) expect(socket.destroyed).toBe(false);
    await server.close();
    running = undefined;
    expect(ofKind(server.events, 'notice').map((event) => event.message)).toEqual(['HTTP connections refused: 3 from 127.0.0.1, which had 4 open (per address)']);
  });

  it('past maxConnections a newcomer takes the place of the connection that waited longest without a request', async () => {
    const server = await start({ maxConnections: 5 });
    const idle = [];
    for (let index = 0; index < 5; index += 1) idle.push(await open(server.server.port, `127.0.3.${index + 1}`));
    const response = await rawGet(server.server.port, '/boot.ipxe');
    expect(response.status).toBe(200);
    expect(await within(idle[0]!.closed, 2000)).toBeLessThan(2000);
    for (const { socket } of idle.slice(1)) expect(socket.destroyed).toBe(false);
    await server.close();
    running = undefined;
    expect(ofKind(server.events, 'notice').map((event) => event.message)).toEqual(['HTTP connections refused: 1 waiting without a request closed to make room (5 open on the listener)']);
  });

  it('when every connection is busy serving a request, a newcomer is refused', async () => {
    const dir = await tempDir('busy');
    await writeFile(join(dir.dir, 'big.bin'), Buffer.alloc(32 * 1024 * 1024));
    try {
      running = await startServer({ roots: [{ prefix: '/files', dir: dir.dir }], connectionLimits: { ...DEFAULT_CONNECTION_LIMITS, maxConnections: 3 } });
      const server = running;
      // Three downloads whose clients never read: their responses stay in progress.
      const busy = [];
      for (let index = 0; index < 3; index += 1) {
        const client = await open(server.server.port, `127.0.4.${index + 1}`);
        client.socket.pause();
        client.socket.write('GET /files/big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
        busy.push(client);
      }
      await waitFor(() => ofKind(server.events, 'transfer.start').length === 3);
      const late = await open(server.server.port, '127.0.4.9');
      expect(await within(late.closed, 2000)).toBeLessThan(1000);
      for (const { socket } of busy) expect(socket.destroyed).toBe(false);
      await server.close();
      running = undefined;
      expect(ofKind(server.events, 'notice').map((event) => event.message)).toEqual(['HTTP connections refused: 1 new, with 3 open on the listener all serving requests (maxConnections)']);
    } finally {
      await dir.remove();
    }
  });
});
