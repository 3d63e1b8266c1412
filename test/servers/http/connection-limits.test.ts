// The HTTP listener's own bounds against a real server on loopback: a client trickling its headers is cut
// off, one address cannot hold every connection, and refusals are summed into one notice.
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONNECTION_LIMITS, type ConnectionLimits } from '../../../src/servers/http/connection-limits.js';
import { ofKind, rawGet, startServer, type RunningServer } from './fixtures.js';

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

  it('past maxConnections new connections are closed at once and counted', async () => {
    const server = await start({ maxConnections: 5 });
    await Promise.all(Array.from({ length: 5 }, (_, index) => open(server.server.port, `127.0.3.${index + 1}`)));
    const extra = await open(server.server.port, '127.0.3.9');
    expect(await within(extra.closed, 2000)).toBeLessThan(1000);
    await server.close();
    running = undefined;
    expect(ofKind(server.events, 'notice').map((event) => event.message)).toEqual(['HTTP connections refused: 1 with 5 open on the listener (maxConnections)']);
  });
});
