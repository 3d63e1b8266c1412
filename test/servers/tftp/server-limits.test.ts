/**
 * The TFTP server's bounds and lifecycle over loopback: the per-client cap, a 5 GB file, the transfer worker
 * threads, close, abort, a taken port, IPv6. The transfers themselves are in server.test.ts.
 */
import { availableParallelism, networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';
import type { PxedeckEvent, TransferEvent } from '../../../src/servers/events.js';
import { createTftpServer, DEFAULT_MAX_TRANSFERS_PER_CLIENT, defaultTransferThreads } from '../../../src/servers/tftp/server.js';
import { RawClient, receiveFile } from './raw-client.js';
import { files, root, start, useTftpRoot, withClient } from './tftp-harness.js';

useTftpRoot();

describe('per-client bound', () => {
  it('one address flooding requests it never acknowledges gets ERRORs past 16; every other address is still served', async () => {
    const h = await start({ maxTransfers: 32 });
    const flood = await Promise.all(Array.from({ length: 40 }, () => RawClient.open()));
    try {
      for (const client of flood) client.send({ type: 'rrq', filename: '3m.bin', mode: 'octet', options: [] }, h.address);
      const first = await Promise.all(flood.map((client) => client.next()));
      const refused = first.filter((reply) => reply?.packet.type === 'error');
      expect(first.filter((reply) => reply?.packet.type === 'data')).toHaveLength(DEFAULT_MAX_TRANSFERS_PER_CLIENT);
      expect(refused).toHaveLength(40 - DEFAULT_MAX_TRANSFERS_PER_CLIENT);
      expect(refused[0]?.packet).toMatchObject({ code: 0, message: 'too many transfers from 127.0.0.1 (16 in progress), try again later' });
      expect(h.server.activeTransfers).toBe(DEFAULT_MAX_TRANSFERS_PER_CLIENT);
      await h.waitFor((event) => event.kind === 'transfer.refused' && /too many transfers from 127\.0\.0\.1/.test((event as TransferEvent).error ?? ''));

      // Another machine is served at once, while the flood's transfers still wait for their ACKs.
      const other = await withClient((client) => receiveFile(client, h.address, '10k.bin'), '127.0.0.2');
      expect(other.bytes.equals(files['10k.bin']!)).toBe(true);

      // The flooding host gets its slots back as its transfers end.
      for (const client of flood.slice(0, 4)) client.send({ type: 'error', code: 0, message: 'enough' }, client.log[0]!.from);
      const deadline = performance.now() + 2000;
      while (h.server.activeTransfers > DEFAULT_MAX_TRANSFERS_PER_CLIENT - 4 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect((await withClient((client) => receiveFile(client, h.address, '1000.bin'))).bytes.equals(files['1000.bin']!)).toBe(true);
    } finally {
      await Promise.all(flood.map((client) => client.close()));
      await h.close();
    }
  });
});

describe('large files', () => {
  it('streams a sparse 5 GB file: tsize past 4 GiB, memory stays flat', { timeout: 30_000 }, async () => {
    const h = await start({ threads: 0 });
    try {
      const before = process.memoryUsage().rss;
      await withClient(async (client) => {
        client.send({ type: 'rrq', filename: 'sparse-5g.bin', mode: 'octet', options: [{ name: 'tsize', value: '0' }, { name: 'blksize', value: '1468' }, { name: 'windowsize', value: '16' }] }, h.address);
        const oack = await client.next();
        expect(oack?.packet).toEqual({ type: 'oack', options: [{ name: 'tsize', value: '5000000000' }, { name: 'blksize', value: '1468' }, { name: 'windowsize', value: '16' }] });
        const tid = oack!.from;
        client.send({ type: 'ack', block: 0 }, tid);
        let received = 0;
        for (let window = 1; window <= 1000; window += 1) {
          for (let i = 0; i < 16; i += 1) {
            const data = await client.next();
            expect(data?.packet).toMatchObject({ type: 'data' });
            expect((data!.packet as { data: Uint8Array }).data.every((byte) => byte === 0)).toBe(true);
            received += 1;
          }
          client.send({ type: 'ack', block: (window * 16) & 0xffff }, tid);
        }
        expect(received).toBe(16_000);
        client.send({ type: 'error', code: 0, message: 'enough' }, tid);
      });
      expect(process.memoryUsage().rss - before).toBeLessThan(150 * 1024 * 1024);
    } finally {
      await h.close();
    }
  });
});

describe('worker threads', () => {
  it('start when transfers need them (one per concurrent transfer, up to `threads`) and end once idle', async () => {
    const h = await start({ threads: 2, workerIdleMs: 300 });
    try {
      expect(h.server.workerThreads).toBe(0);
      const one = await withClient((client) => receiveFile(client, h.address, '10k.bin'));
      expect(one.bytes.equals(files['10k.bin']!)).toBe(true);
      expect(h.server.workerThreads).toBe(1);
      let most = 0;
      const sampler = setInterval(() => (most = Math.max(most, h.server.workerThreads)), 5);
      const three = await Promise.all([1, 2, 3].map(() => withClient((client) => receiveFile(client, h.address, '3m.bin', { options: [['blksize', '1468']] }))));
      clearInterval(sampler);
      for (const result of three) expect(result.bytes.equals(files['3m.bin']!)).toBe(true);
      expect(most).toBe(2);
      const deadline = performance.now() + 3000;
      while (h.server.workerThreads > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(h.server.workerThreads).toBe(0);
      // And they come back for the next machine.
      expect((await withClient((client) => receiveFile(client, h.address, '1000.bin'))).bytes.equals(files['1000.bin']!)).toBe(true);
    } finally {
      await h.close();
    }
  });
  it('by default, one per core beside the main thread: a 2-core machine serves parallel transfers from one', async () => {
    expect([1, 2, 3, 4, 8, 64].map((cores) => defaultTransferThreads(cores))).toEqual([1, 1, 2, 3, 4, 4]);
    // The harness runs transfers in this thread unless told otherwise; undefined asks for the default.
    const h = await start({ threads: undefined, workerIdleMs: 300 });
    try {
      let most = 0;
      const sampler = setInterval(() => (most = Math.max(most, h.server.workerThreads)), 5);
      const three = await Promise.all([1, 2, 3].map(() => withClient((client) => receiveFile(client, h.address, '3m.bin', { options: [['blksize', '1468']] }))));
      clearInterval(sampler);
      for (const result of three) expect(result.bytes.equals(files['3m.bin']!)).toBe(true);
      expect(most).toBe(defaultTransferThreads(availableParallelism()));
    } finally {
      await h.close();
    }
  });
});

describe('lifecycle', () => {
  it('close() ends running transfers with an ERROR and reports the server closed', async () => {
    const h = await start({ threads: 1 });
    await withClient(async (client) => {
      client.send({ type: 'rrq', filename: '10k.bin', mode: 'octet', options: [] }, h.address);
      // The worker thread starts with this transfer: on a loaded machine that takes a while.
      expect((await client.next(10_000))?.packet.type).toBe('data');
      await h.close();
      expect((await client.next(1000, (r) => r.packet.type === 'error'))?.packet).toMatchObject({ type: 'error', code: 0, message: 'server shutting down' });
    });
    expect(h.events.some((event) => event.kind === 'server.closed')).toBe(true);
  });

  it('an aborted signal closes the server', async () => {
    const controller = new AbortController();
    const h = await start({ signal: controller.signal });
    controller.abort();
    await h.waitFor((event) => event.kind === 'server.closed');
  });

  it('refuses to start on a port already taken, and says so', async () => {
    const h = await start();
    try {
      const events: PxedeckEvent[] = [];
      await expect(createTftpServer({ bind: h.address, root, emit: (e) => events.push(e), threads: 0 })).rejects.toThrow(/EADDRINUSE/);
      expect(events.some((event) => event.kind === 'server.error')).toBe(true);
    } finally {
      await h.close();
    }
  });

  const hasIpv6Loopback = Object.values(networkInterfaces()).some((list) => list?.some((entry) => entry.address === '::1'));
  it.skipIf(!hasIpv6Loopback)('serves over IPv6 (::1)', async () => {
    const h = await start({}, '::1');
    try {
      const result = await withClient((client) => receiveFile(client, h.address, '10k.bin', { options: [['blksize', '1228'], ['windowsize', '4']] }), '::1');
      expect(result.bytes.equals(files['10k.bin']!)).toBe(true);
      expect(result.tid.address).toBe('::1');
    } finally {
      await h.close();
    }
  });
});
