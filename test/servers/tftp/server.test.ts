/**
 * The TFTP server over loopback, driven by a byte-level client: every option path, windows, wrap,
 * retransmission, foreign TIDs, refusals, events. The transfer paths run both on the calling thread and
 * in worker threads (the default). Bounds, large files, the worker threads and the lifecycle are in
 * server-limits.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Mac } from '../../../src/protocol/mac.js';
import { fromNetascii } from '../../../src/protocol/tftp/netascii.js';
import { encode } from '../../../src/protocol/tftp/packet.js';
import type { TransferEvent } from '../../../src/servers/events.js';
import { RawClient, receiveFile, type Received } from './raw-client.js';
import { files, outside, root, start, useTftpRoot, withClient, type Harness } from './tftp-harness.js';

useTftpRoot();

describe.each([
  ['on the calling thread', 0],
  ['in worker threads', 2],
])('serving %s', (_where, threads) => {
  let h: Harness;
  beforeAll(async () => {
    h = await start({ threads });
  });
  afterAll(() => h.close());

  it.each(['empty.bin', '511.bin', '512.bin', '1000.bin', '10k.bin'])('%s with RFC 1350 defaults (512-byte blocks, no OACK)', async (name) => {
    const result = await withClient((client) => receiveFile(client, h.address, name));
    expect(result.bytes.equals(files[name]!)).toBe(true);
    expect(result.oack).toBeUndefined();
    // A file of n × 512 bytes ends with an empty block.
    expect(result.dataPackets).toBe(Math.floor(files[name]!.length / 512) + 1);
  });

  it.each([
    [[['blksize', '1468']], { blksize: '1468' }],
    // Loopback's MTU (65536) carries 8192-byte blocks whole: the cap follows the interface.
    [[['blksize', '8192']], { blksize: '8192' }],
    [[['blksize', '1432'], ['tsize', '0']], { blksize: '1432', tsize: String(3 * 1024 * 1024) }],
    [[['tsize', '0'], ['blksize', '1468'], ['timeout', '6']], { tsize: String(3 * 1024 * 1024), blksize: '1468', timeout: '6' }],
    [[['blksize', '1468'], ['windowsize', '4']], { blksize: '1468', windowsize: '4' }],
    [[['blksize', '1468'], ['windowsize', '16']], { blksize: '1468', windowsize: '16' }],
    [[['blksize', '512'], ['windowsize', '64']], { blksize: '512', windowsize: '64' }],
    [[['windowsize', '1000']], { windowsize: '64' }],
    // The smallest block sent with segmentation: the OACK must still leave in one piece.
    [[['tsize', '0'], ['blksize', '256'], ['windowsize', '8'], ['timeout', '3']], { tsize: String(3 * 1024 * 1024), blksize: '256', windowsize: '8', timeout: '3' }],
    [[['tsize', 'enable'], ['blksize', '1408']], { blksize: '1408' }],
  ] as [[string, string][], Record<string, string>][])('3m.bin with %j → OACK %j, same bytes', async (options, oack) => {
    const result = await withClient((client) => receiveFile(client, h.address, '3m.bin', { options }));
    expect(result.oack).toEqual(oack);
    expect(result.bytes.equals(files['3m.bin']!)).toBe(true);
    expect(result.dataPackets).toBe(Math.floor(files['3m.bin']!.length / Number(oack.blksize ?? 512)) + 1);
  });

  it('block numbers wrap past 65535 (blksize 8, 65537 blocks)', async () => {
    const blocks: number[] = [];
    const result = await withClient(async (client) => {
      const received = await receiveFile(client, h.address, 'wrap.bin', { options: [['blksize', '8'], ['windowsize', '64']] });
      for (const entry of client.log) if (entry.packet.type === 'data') blocks.push(entry.packet.block);
      return received;
    });
    expect(result.bytes.equals(files['wrap.bin']!)).toBe(true);
    // On the wire: …, 65534, 65535, 0, 1, … (retransmissions may repeat earlier numbers in between).
    const at = blocks.indexOf(65535);
    expect(at).toBeGreaterThan(0);
    expect(blocks.indexOf(0, at)).toBeGreaterThan(at);
    expect(blocks.at(-1)).toBe(1);
  });

  it('netascii: LF → CR LF and CR → CR NUL on the wire, and no tsize (the wire size differs)', async () => {
    const result = await withClient((client) => receiveFile(client, h.address, 'text.txt', { mode: 'NetASCII', options: [['tsize', '0'], ['blksize', '8']] }));
    expect(result.oack).toEqual({ blksize: '8' });
    expect(result.bytes.toString('latin1')).toBe('first line\r\nsecond\r\u0000\r\nbare CR\r\u0000 end\r\n');
    expect(fromNetascii(result.bytes).equals(files['text.txt']!)).toBe(true);
  });

  it('serves a file whose size is a multiple of the window and block (ends with an empty block)', async () => {
    const result = await withClient((client) => receiveFile(client, h.address, '512.bin', { options: [['blksize', '128'], ['windowsize', '4']] }));
    expect(result.bytes.equals(files['512.bin']!)).toBe(true);
    expect(result.dataPackets).toBe(5);
  });
});

describe('windows and acknowledgements', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await start({ retransmit: { initialMs: 1500, maxMs: 3000, retries: 3 } });
  });
  afterAll(() => h.close());

  const dataBlocks = (packets: { packet: { type: string; block?: number } }[]): number[] =>
    packets.flatMap((received) => (received.packet.type === 'data' ? [received.packet.block!] : []));

  it('a duplicate ACK resends the window from the block after it, once, and never advances', async () => {
    await withClient(async (client) => {
      client.send({ type: 'rrq', filename: '10k.bin', mode: 'octet', options: [{ name: 'windowsize', value: '4' }] }, h.address);
      const oack = await client.next();
      expect(oack?.packet).toEqual({ type: 'oack', options: [{ name: 'windowsize', value: '4' }] });
      const tid = oack!.from;
      client.send({ type: 'ack', block: 0 }, tid);
      expect(dataBlocks(await client.drain(150))).toEqual([1, 2, 3, 4]);
      // Block 1 lost: the client repeats ACK 0.
      client.send({ type: 'ack', block: 0 }, tid);
      expect(dataBlocks(await client.drain(150))).toEqual([1, 2, 3, 4]);
      // More copies of the same ACK (EDK2 answers each out-of-order block) do not multiply the window.
      client.send({ type: 'ack', block: 0 }, tid);
      client.send({ type: 'ack', block: 0 }, tid);
      expect(dataBlocks(await client.drain(150))).toEqual([]);
      // A gap inside the window: the next window starts after the acknowledged block.
      client.send({ type: 'ack', block: 2 }, tid);
      expect(dataBlocks(await client.drain(150))).toEqual([3, 4, 5, 6]);
      client.send({ type: 'ack', block: 6 }, tid);
      expect(dataBlocks(await client.drain(150))).toEqual([7, 8, 9, 10]);
      // Blocks 3–6 went out twice, so a repeated ACK 6 may be the client answering a copy: not a loss report.
      client.send({ type: 'ack', block: 6 }, tid);
      expect(dataBlocks(await client.drain(150))).toEqual([]);
      // An ACK for a block never sent is ignored.
      client.send({ type: 'ack', block: 15 }, tid);
      expect(dataBlocks(await client.drain(150))).toEqual([]);
      client.send({ type: 'ack', block: 10 }, tid);
      expect(dataBlocks(await client.drain(150))).toEqual([11, 12, 13, 14]);
      // 7–10 went out once: a repeated ACK 10 reports block 11 lost.
      client.send({ type: 'ack', block: 10 }, tid);
      expect(dataBlocks(await client.drain(150))).toEqual([11, 12, 13, 14]);
      client.send({ type: 'error', code: 0, message: 'enough' }, tid);
    });
  });

  it('windowsize 1: a duplicate ACK is ignored (no Sorcerer’s Apprentice), the timer resends', async () => {
    await withClient(async (client) => {
      client.send({ type: 'rrq', filename: '10k.bin', mode: 'octet', options: [] }, h.address);
      const first = await client.next();
      expect(first?.packet).toMatchObject({ type: 'data', block: 1 });
      const tid = first!.from;
      client.send({ type: 'ack', block: 1 }, tid);
      expect(dataBlocks(await client.drain(100))).toEqual([2]);
      client.send({ type: 'ack', block: 1 }, tid);
      client.send({ type: 'ack', block: 1 }, tid);
      expect(dataBlocks(await client.drain(300))).toEqual([]);
      const again = await client.next(2000);
      expect(again?.packet).toMatchObject({ type: 'data', block: 2 });
      client.send({ type: 'error', code: 0, message: 'enough' }, tid);
    });
  });
});

describe('retransmission', () => {
  it('resends after ~1 s by default, even when the client asked for a longer timeout', async () => {
    const h = await start({ retransmit: undefined });
    try {
      await withClient(async (client) => {
        client.send({ type: 'rrq', filename: '1000.bin', mode: 'octet', options: [{ name: 'timeout', value: '6' }] }, h.address);
        const oack = await client.next();
        expect(oack?.packet).toEqual({ type: 'oack', options: [{ name: 'timeout', value: '6' }] });
        const again = await client.next(2500);
        expect(again?.packet.type).toBe('oack');
        expect(again!.at - oack!.at).toBeGreaterThan(850);
        expect(again!.at - oack!.at).toBeLessThan(1500);
        client.send({ type: 'error', code: 0, message: 'enough' }, oack!.from);
      });
    } finally {
      await h.close();
    }
  });

  it('backs off, then gives up with an ERROR and a transfer.error event', async () => {
    const h = await start({ retransmit: { initialMs: 100, maxMs: 300, retries: 3 } });
    try {
      await withClient(async (client) => {
        client.send({ type: 'rrq', filename: '1000.bin', mode: 'octet', options: [] }, h.address);
        const packets: Received[] = [];
        for (;;) {
          const received = await client.next(2000);
          if (!received) break;
          packets.push(received);
          if (received.packet.type === 'error') break;
        }
        expect(packets.map((p) => p.packet.type)).toEqual(['data', 'data', 'data', 'data', 'error']);
        const gaps = packets.slice(1).map((p, i) => p.at - packets[i]!.at);
        // 100 ms, then doubled: 200, 300 (capped), 300, then give up.
        expect(gaps[0]).toBeGreaterThan(80);
        expect(gaps[1]).toBeGreaterThan(170);
        expect(gaps[2]).toBeGreaterThan(260);
        expect(gaps[3]).toBeGreaterThan(260);
        expect(packets[4]!.packet).toMatchObject({ type: 'error', code: 0 });
      });
      const error = (await h.waitFor((event) => event.kind === 'transfer.error')) as TransferEvent;
      expect(error.error).toMatch(/retransmissions|acknowledg/);
      expect(error.benign).toBeUndefined();
      expect(h.server.activeTransfers).toBe(0);
    } finally {
      await h.close();
    }
  });

  it('an OACK nobody acknowledges is retransmitted, then abandoned', async () => {
    const h = await start({ retransmit: { initialMs: 50, maxMs: 100, retries: 2 } });
    try {
      await withClient(async (client) => {
        client.send({ type: 'rrq', filename: '1000.bin', mode: 'octet', options: [{ name: 'blksize', value: '1024' }] }, h.address);
        const types = [];
        for (let i = 0; i < 4; i += 1) types.push((await client.next(1000))?.packet.type);
        expect(types).toEqual(['oack', 'oack', 'oack', 'error']);
      });
      expect(((await h.waitFor((event) => event.kind === 'transfer.error')) as TransferEvent).error).toMatch(/option acknowledgement/);
    } finally {
      await h.close();
    }
  });
});

describe('requests and events', () => {
  let h: Harness;
  const mac = '52:54:00:12:34:56' as Mac;
  beforeAll(async () => {
    h = await start({
      macForAddress: (ip) => (ip === '127.0.0.1' ? mac : undefined),
      resolveVirtual: (path, client) => {
        if (path === 'pxelinux.cfg/01-52-54-00-12-34-56') return `DEFAULT boot\n# for ${client.mac} at ${client.address}\n`;
        if (path === 'virtual.bin') return Buffer.from([1, 2, 3]);
        if (path === 'chosen.bin') return { root: outside, path: 'chosen.bin' };
        if (path === 'broken') throw new Error('planner failed');
        return null;
      },
      blksizeCapFor: (client) => (client.mac === mac ? 1024 : undefined),
      maxTransfers: 3,
    });
  });
  afterAll(() => h.close());

  it('virtual files: generated text, bytes, a file the boot core chose; null falls through to the root', async () => {
    await withClient(async (client) => {
      const config = await receiveFile(client, h.address, 'pxelinux.cfg/01-52-54-00-12-34-56');
      expect(config.bytes.toString()).toBe(`DEFAULT boot\n# for ${mac} at 127.0.0.1\n`);
    });
    expect((await withClient((client) => receiveFile(client, h.address, 'virtual.bin'))).bytes).toEqual(Buffer.from([1, 2, 3]));
    expect((await withClient((client) => receiveFile(client, h.address, 'chosen.bin'))).bytes.toString()).toBe('chosen by the boot core');
    expect((await withClient((client) => receiveFile(client, h.address, 'pxelinux.cfg/default'))).bytes.toString()).toBe('DEFAULT local\n');
  });

  it('a failing boot core answers ERROR 0 and reports the error', async () => {
    await withClient(async (client) => {
      client.send({ type: 'rrq', filename: 'broken', mode: 'octet', options: [] }, h.address);
      expect((await client.next())?.packet).toMatchObject({ type: 'error', code: 0 });
    });
    const event = (await h.waitFor((e) => e.kind === 'transfer.error' && (e as TransferEvent).file === 'broken')) as TransferEvent;
    expect(event.error).toContain('planner failed');
  });

  it('the per-client cap lowers blksize for that MAC', async () => {
    const result = await withClient((client) => receiveFile(client, h.address, '10k.bin', { options: [['blksize', '1468']] }));
    expect(result.oack).toEqual({ blksize: '1024' });
    expect(result.bytes.equals(files['10k.bin']!)).toBe(true);
  });

  it('start, progress and done events carry the MAC, the peer and the negotiated options', async () => {
    const before = h.events.length;
    let port = 0;
    await withClient(async (client) => {
      port = client.port;
      // A slow client: ~1.5 s of ACKs, enough for several progress events.
      const result = await receiveFile(client, h.address, '3m.bin', {
        options: [['blksize', '1024'], ['tsize', '0']],
        drop: (kind, block) => {
          if (kind === 'data' && block % 64 === 0) {
            const until = performance.now() + 25;
            while (performance.now() < until);
          }
          return false;
        },
      });
      expect(result.bytes.length).toBe(3 * 1024 * 1024);
    });
    await h.waitFor((event) => event.kind === 'transfer.done' && (event as TransferEvent).peer === `127.0.0.1:${port}`);
    const mine = h.events.slice(before).filter((event): event is TransferEvent => 'peer' in event && event.peer === `127.0.0.1:${port}`);
    const kinds = mine.map((event) => event.kind);
    expect(kinds[0]).toBe('transfer.start');
    expect(kinds.at(-1)).toBe('transfer.done');
    expect(mine[0]).toMatchObject({ source: 'tftp', mac, ip: '127.0.0.1', file: '3m.bin', size: 3 * 1024 * 1024, options: { blksize: 1024, windowsize: 1, tsize: 3 * 1024 * 1024 } });
    const progress = mine.filter((event) => event.kind === 'transfer.progress');
    const done = mine.at(-1)!;
    expect(done).toMatchObject({ bytes: 3 * 1024 * 1024, mac });
    expect(done.durationMs).toBeGreaterThan(0);
    expect(done.rate).toBeGreaterThan(0);
    expect(progress.length).toBeGreaterThan(0);
    // At most ~4 a second.
    expect(progress.length).toBeLessThanOrEqual(Math.ceil(done.durationMs! / 250) + 1);
    for (let i = 1; i < progress.length; i += 1) {
      expect(progress[i]!.bytes).toBeGreaterThan(progress[i - 1]!.bytes);
      expect(progress[i]!.time - progress[i - 1]!.time).toBeGreaterThanOrEqual(240);
    }
    expect(progress.every((event) => (event.rate ?? 0) > 0)).toBe(true);
  });

  it('the size probe (ERROR 8 right after the OACK) is benign; an abort mid-transfer is not', async () => {
    await withClient(async (client) => {
      client.send({ type: 'rrq', filename: '3m.bin', mode: 'octet', options: [{ name: 'tsize', value: '0' }, { name: 'blksize', value: '1468' }] }, h.address);
      const oack = await client.next();
      expect(oack?.packet).toMatchObject({ type: 'oack' });
      client.send({ type: 'error', code: 8, message: 'User aborted the transfer' }, oack!.from);
    });
    const probe = (await h.waitFor((e) => e.kind === 'transfer.error' && (e as TransferEvent).benign === true)) as TransferEvent;
    expect(probe).toMatchObject({ file: '3m.bin', bytes: 0, benign: true });
    expect(probe.error).toContain('size probe');

    await withClient(async (client) => {
      client.send({ type: 'rrq', filename: '10k.bin', mode: 'octet', options: [{ name: 'tsize', value: '0' }] }, h.address);
      const oack = await client.next();
      client.send({ type: 'ack', block: 0 }, oack!.from);
      await client.next();
      client.send({ type: 'error', code: 0, message: 'disk full' }, oack!.from);
    });
    const abort = (await h.waitFor((e) => e.kind === 'transfer.error' && (e as TransferEvent).file === '10k.bin')) as TransferEvent;
    expect(abort.benign).toBeUndefined();
    expect(abort.error).toContain('disk full');
  });

  it('a packet from another port on a transfer gets ERROR 5 and leaves the transfer alone', async () => {
    const intruder = await RawClient.open();
    try {
      await withClient(async (client) => {
        client.send({ type: 'rrq', filename: '10k.bin', mode: 'octet', options: [] }, h.address);
        const first = await client.next();
        const tid = first!.from;
        intruder.send({ type: 'ack', block: 1 }, tid);
        intruder.send({ type: 'error', code: 0, message: 'spoofed abort' }, tid);
        // Answered from the transfer's own address and port (its stranger catcher, beside the connected socket).
        for (let i = 0; i < 2; i += 1) {
          const answer = await intruder.next();
          expect(answer?.packet).toMatchObject({ type: 'error', code: 5 });
          expect(answer?.from).toEqual(tid);
        }
        // The transfer neither advanced nor stopped: the real client finishes it.
        expect(await client.next(100)).toBeUndefined();
        const chunks = [Buffer.from((first!.packet as { data: Uint8Array }).data)];
        for (let block = 1; ; block += 1) {
          client.send({ type: 'ack', block }, tid);
          const data = await client.next();
          expect(data?.packet).toMatchObject({ type: 'data', block: block + 1 });
          const bytes = (data!.packet as { data: Uint8Array }).data;
          chunks.push(Buffer.from(bytes));
          if (bytes.length < 512) {
            client.send({ type: 'ack', block: block + 1 }, tid);
            break;
          }
        }
        expect(Buffer.concat(chunks).equals(files['10k.bin']!)).toBe(true);
      });
    } finally {
      await intruder.close();
    }
  });

  it('write requests are refused with ERROR 2 and an event', async () => {
    await withClient(async (client) => {
      client.send({ type: 'wrq', filename: 'upload.bin', mode: 'octet', options: [] }, h.address);
      expect((await client.next())?.packet).toMatchObject({ type: 'error', code: 2 });
    });
    const event = (await h.waitFor((e) => e.kind === 'transfer.refused' && (e as TransferEvent).file === 'upload.bin')) as TransferEvent;
    expect(event.error).toMatch(/read-only/);
  });

  it('mail mode is refused with ERROR 4; a missing file is ERROR 1 and a not-found event', async () => {
    await withClient(async (client) => {
      client.send({ type: 'rrq', filename: '1000.bin', mode: 'mail', options: [] }, h.address);
      expect((await client.next())?.packet).toMatchObject({ type: 'error', code: 4 });
      client.send({ type: 'rrq', filename: 'pxelinux.cfg/C0A8', mode: 'octet', options: [] }, h.address);
      expect((await client.next())?.packet).toMatchObject({ type: 'error', code: 1 });
    });
    await h.waitFor((e) => e.kind === 'transfer.not-found' && (e as TransferEvent).file === 'pxelinux.cfg/C0A8');
  });

  it('malformed packets are reported; a malformed request gets ERROR 4, other garbage no answer', async () => {
    await withClient(async (client) => {
      client.send(Buffer.from('000166696c65', 'hex'), h.address);
      expect((await client.next())?.packet).toMatchObject({ type: 'error', code: 4 });
      client.send(Buffer.from('0009ffff', 'hex'), h.address);
      expect(await client.next(200)).toBeUndefined();
    });
    const malformed = h.events.filter((event) => event.kind === 'packet.malformed');
    expect(malformed.length).toBeGreaterThanOrEqual(2);
    expect(malformed.at(-1)).toMatchObject({ source: 'tftp', error: expect.stringContaining('offset'), count: malformed.length });
  });

  it('a repeated request from the same port starts one transfer', async () => {
    const starts = h.transfers('transfer.start').length;
    await withClient(async (client) => {
      const rrq = encode({ type: 'rrq', filename: '1000.bin', mode: 'octet', options: [{ name: 'blksize', value: '600' }] });
      client.send(rrq, h.address);
      client.send(rrq, h.address);
      client.send(rrq, h.address);
      const replies = await client.drain(120);
      expect(replies.map((r) => r.packet.type)).toEqual(['oack']);
      client.send({ type: 'error', code: 0, message: 'enough' }, replies[0]!.from);
    });
    expect(h.transfers('transfer.start').length).toBe(starts + 1);
  });

  it('beyond maxTransfers a request gets a clear ERROR and a refused event', async () => {
    const clients = await Promise.all([RawClient.open(), RawClient.open(), RawClient.open(), RawClient.open()]);
    try {
      for (const client of clients.slice(0, 3)) {
        client.send({ type: 'rrq', filename: '10k.bin', mode: 'octet', options: [] }, h.address);
        expect((await client.next())?.packet.type).toBe('data');
      }
      expect(h.server.activeTransfers).toBe(3);
      clients[3]!.send({ type: 'rrq', filename: '10k.bin', mode: 'octet', options: [] }, h.address);
      const busy = await clients[3]!.next();
      expect(busy?.packet).toMatchObject({ type: 'error', code: 0, message: expect.stringMatching(/busy.*3 transfers/) });
      await h.waitFor((e) => e.kind === 'transfer.refused' && /busy/.test((e as TransferEvent).error ?? ''));
      for (const client of clients.slice(0, 3)) client.send({ type: 'error', code: 0, message: 'enough' }, client.log[0]!.from);
      const deadline = performance.now() + 2000;
      while (h.server.activeTransfers > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(h.server.activeTransfers).toBe(0);
      expect((await receiveFile(clients[3]!, h.address, '1000.bin')).bytes.equals(files['1000.bin']!)).toBe(true);
    } finally {
      await Promise.all(clients.map((client) => client.close()));
    }
  });
});
