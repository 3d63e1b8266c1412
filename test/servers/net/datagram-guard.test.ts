/**
 * The shared UDP guard over real loopback sockets: a datagram from source port 0 (sent through a raw socket,
 * as an attacker would) never reaches a handler, a handler's throw or rejection is one event, and a reply to
 * a peer no datagram can reach is refused instead of throwing. The TFTP worker path: a transfer for such a
 * peer ends 'unstarted' and the worker thread goes on serving.
 */
import { execFileSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import type { MalformedEvent, PxedeckEvent } from '../../../src/servers/events.js';
import { onDatagram, sendDatagram, unanswerableReason } from '../../../src/servers/net/datagram-guard.js';
import type { RunOutcome } from '../../../src/servers/tftp/run-transfer.js';
import { createWorkerRunner } from '../../../src/servers/tftp/transfer-pool.js';
import { DEFAULT_RETRANSMIT } from '../../../src/servers/tftp/retransmit.js';
import { RawClient, receiveFile } from '../tftp/raw-client.js';

const sockets: Socket[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.close();
});

async function listener(): Promise<{ socket: Socket; port: number }> {
  const socket = createSocket('udp4');
  sockets.push(socket);
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { socket, port: socket.address().port };
}

async function sendFrom(port: number, text: string): Promise<void> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => socket.send(text, port, '127.0.0.1', (error) => (error ? reject(error) : resolve())));
  socket.close();
}

const until = async (test: () => boolean, ms = 2000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!test() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
};

/** A UDP datagram from 127.0.0.1 port 0, through a raw socket (the kernel adds the IP header). */
function sendFromPortZero(port: number, payload: string): void {
  const script = [
    'import socket, struct, sys',
    'payload = sys.argv[2].encode()',
    's = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)',
    "s.sendto(struct.pack('!HHHH', 0, int(sys.argv[1]), 8 + len(payload), 0) + payload, ('127.0.0.1', 0))",
  ].join('\n');
  execFileSync('/usr/bin/python3', ['-c', script, String(port), payload]);
}

function guardFor(events: PxedeckEvent[]) {
  let dropped = 0;
  return { source: 'syslog' as const, emit: (event: PxedeckEvent) => events.push(event), countDropped: () => (dropped += 1) };
}

describe('the datagram guard', () => {
  it.skipIf(process.getuid?.() !== 0)('drops and counts a datagram from source port 0 before the handler sees it', async () => {
    const { socket, port } = await listener();
    const events: PxedeckEvent[] = [];
    const handled: string[] = [];
    onDatagram(socket, guardFor(events), (bytes) => void handled.push(bytes.toString()));
    sendFromPortZero(port, 'from port zero');
    await until(() => events.length > 0);
    await sendFrom(port, 'from a real port');
    await until(() => handled.length > 0);
    expect(handled).toEqual(['from a real port']);
    expect(events).toEqual([
      expect.objectContaining({ kind: 'packet.malformed', source: 'syslog', peer: '127.0.0.1:0', error: 'source port 0 cannot be answered: dropped', length: 14, count: 1 }),
    ]);
  });

  it('turns a handler that throws or rejects into one event each, and handles the next datagram', async () => {
    const { socket, port } = await listener();
    const events: PxedeckEvent[] = [];
    const handled: string[] = [];
    onDatagram(socket, guardFor(events), (bytes) => {
      const text = bytes.toString();
      if (text === 'throw') throw new Error('handler threw');
      if (text === 'reject') return Promise.reject(new Error('handler rejected'));
      handled.push(text);
      return undefined;
    });
    await sendFrom(port, 'throw');
    await sendFrom(port, 'reject');
    await sendFrom(port, 'fine');
    await until(() => handled.length > 0 && events.length >= 2);
    expect(handled).toEqual(['fine']);
    expect(events.map((event) => [(event as MalformedEvent).error, (event as MalformedEvent).count])).toEqual([
      ['could not be handled: handler threw', 1],
      ['could not be handled: handler rejected', 2],
    ]);
  });

  it('refuses to send to port 0, to a non-address, and on a closed socket, without throwing', async () => {
    const { socket } = await listener();
    const errors: string[] = [];
    expect(sendDatagram(socket, Buffer.from('x'), { address: '127.0.0.1', port: 0 }, (message) => errors.push(message))).toBe(false);
    expect(sendDatagram(socket, Buffer.from('x'), { address: 'not-an-ip', port: 69 }, (message) => errors.push(message))).toBe(false);
    const closed = createSocket('udp4');
    await new Promise<void>((resolve) => closed.bind(0, '127.0.0.1', resolve));
    closed.close();
    expect(sendDatagram(closed, Buffer.from('x'), { address: '127.0.0.1', port: 9 }, (message) => errors.push(message))).toBe(false);
    expect(errors).toEqual([
      'not sent to 127.0.0.1:0: source port 0 cannot be answered',
      'not sent to not-an-ip:69: source address "not-an-ip" cannot be answered',
      expect.stringMatching(/^sending to 127\.0\.0\.1:9: not running/i),
    ]);
    expect(unanswerableReason({ address: 'fe80::1%eth0', port: 546 })).toBeUndefined();
    expect(unanswerableReason({ address: '::1', port: 65536 })).toBe('source port 65536 cannot be answered');
  });
});

describe('a TFTP transfer for a peer at port 0, on a worker thread', () => {
  it('ends unstarted, and the same worker goes on serving the next transfer', { timeout: 20_000 }, async () => {
    const runner = createWorkerRunner(1);
    const content = Buffer.from('served after the bad one\n');
    const spec = (port: number) => ({
      localAddress: '127.0.0.1',
      peer: { address: '127.0.0.1', port },
      source: { kind: 'memory' as const, content },
      netascii: false,
      blksize: 512,
      windowsize: 1,
      oack: [],
      retransmit: DEFAULT_RETRANSMIT,
      readaheadBytes: 4096,
      segmentation: false,
      progressIntervalMs: 250,
    });
    const run = (port: number) =>
      new Promise<RunOutcome>((resolve) => runner.run(spec(port), { onProgress: () => undefined, onFinish: resolve }));
    try {
      expect(await run(0)).toEqual({ kind: 'unstarted', message: 'source port 0 cannot be answered' });
      const client = await RawClient.open();
      try {
        const finished = run(client.port);
        const first = await client.next();
        expect(first?.packet).toMatchObject({ type: 'data', block: 1 });
        client.send({ type: 'ack', block: 1 }, first!.from);
        expect(await finished).toEqual({ kind: 'done', bytes: content.length });
        expect(Buffer.from((first!.packet as { data: Uint8Array }).data).toString()).toBe(content.toString());
      } finally {
        await client.close();
      }
    } finally {
      await runner.close();
    }
  });
});
