/**
 * Real TFTP clients (curl, atftp, tftp-hpa) download from pxedeck's server over loopback; every byte must
 * match. The server runs as in production: transfers in worker threads, UDP segmentation on.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PxedeckEvent, TransferEvent } from '../../src/servers/events.js';
import { createTftpServer, type TftpServer } from '../../src/servers/tftp/server.js';

const run = promisify(execFile);

function has(command: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => existsSync(join(dir, command)));
}

let root: string;
let out: string;
let server: TftpServer;
const events: PxedeckEvent[] = [];
const content: Record<string, Buffer> = {};
const ipv6 = Object.values(networkInterfaces()).some((list) => list?.some((entry) => entry.address === '::1'));

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'pxd-tftp-interop-'));
  out = mkdtempSync(join(tmpdir(), 'pxd-tftp-interop-out-'));
  content['big.bin'] = randomBytes(5 * 1024 * 1024 + 333);
  content['exact.bin'] = randomBytes(1468 * 64);
  content['empty.bin'] = Buffer.alloc(0);
  content['menu.txt'] = Buffer.from('DEFAULT linux\nLABEL linux\r\n  KERNEL vmlinuz\rAPPEND x\n');
  for (const [name, bytes] of Object.entries(content)) writeFileSync(join(root, name), bytes);
  server = await createTftpServer({
    bind: ipv6 ? [{ address: '127.0.0.1', port: 0 }, { address: '::1', port: 0 }] : { address: '127.0.0.1', port: 0 },
    root,
    emit: (event) => events.push(event),
  });
});

afterAll(async () => {
  await server?.close();
  rmSync(root, { recursive: true, force: true });
  rmSync(out, { recursive: true, force: true });
});

const port = (): number => server.addresses[0]!.port;
const port6 = (): number => server.addresses[1]!.port;
let counter = 0;
const target = (): string => join(out, `out-${(counter += 1)}`);

async function doneEventFor(file: string, since: number): Promise<TransferEvent> {
  const deadline = performance.now() + 3000;
  for (;;) {
    const found = events.slice(since).find((e): e is TransferEvent => e.kind === 'transfer.done' && (e as TransferEvent).file === file);
    if (found) return found;
    if (performance.now() > deadline) throw new Error(`no transfer.done for ${file}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe.skipIf(!has('curl'))('curl', () => {
  it.each([
    ['default options (tsize, blksize 512, timeout)', [], 'big.bin'],
    ['--tftp-blksize 1468', ['--tftp-blksize', '1468'], 'big.bin'],
    ['--tftp-blksize 8192 (answered with the 1468 cap)', ['--tftp-blksize', '8192'], 'big.bin'],
    ['--tftp-blksize 1468, a multiple of the block size', ['--tftp-blksize', '1468'], 'exact.bin'],
    ['--tftp-no-options', ['--tftp-no-options'], 'big.bin'],
    // curl rejects an OACK announcing tsize 0 (curl error 71), which is what an empty file is; tftpd-hpa
    // answers the same, so only the no-options request can fetch one with curl.
    ['an empty file, no options', ['--tftp-no-options'], 'empty.bin'],
  ])('%s', async (_name, args, file) => {
    const since = events.length;
    const local = target();
    await run('curl', ['-sS', '--max-time', '60', ...args, '-o', local, `tftp://127.0.0.1:${port()}/${file}`]);
    expect(readFileSync(local).equals(content[file]!)).toBe(true);
    const done = await doneEventFor(file, since);
    expect(done.bytes).toBe(content[file]!.length);
  });

  it.skipIf(!ipv6)('over IPv6', async () => {
    const local = target();
    await run('curl', ['-sS', '--max-time', '60', '--tftp-blksize', '1228', '-o', local, `tftp://[::1]:${port6()}/big.bin`]);
    expect(readFileSync(local).equals(content['big.bin']!)).toBe(true);
  });

  it('a missing file is curl error 68 (TFTP file not found)', async () => {
    await expect(run('curl', ['-sS', '--max-time', '20', '-o', target(), `tftp://127.0.0.1:${port()}/nope.bin`])).rejects.toMatchObject({ code: 68 });
  });
});

describe.skipIf(!has('atftp'))('atftp', () => {
  it.each([
    ['no options', [], 'big.bin', {}],
    ['blksize 1468', ['--option', 'blksize 1468'], 'big.bin', { blksize: 1468, windowsize: 1 }],
    ['blksize 1468, windowsize 4 (what OVMF asks)', ['--option', 'blksize 1468', '--option', 'windowsize 4'], 'big.bin', { blksize: 1468, windowsize: 4 }],
    ['blksize 1468, windowsize 16, tsize', ['--option', 'blksize 1468', '--option', 'windowsize 16', '--option', 'tsize'], 'big.bin', { blksize: 1468, windowsize: 16, tsize: 5 * 1024 * 1024 + 333 }],
    ['blksize 512, windowsize 64', ['--option', 'blksize 512', '--option', 'windowsize 64'], 'big.bin', { blksize: 512, windowsize: 64 }],
    ['windowsize 8 on a multiple of the block size', ['--option', 'blksize 1468', '--option', 'windowsize 8'], 'exact.bin', { blksize: 1468, windowsize: 8 }],
  ])('%s', async (_name, args, file, options) => {
    const since = events.length;
    const local = target();
    await run('atftp', ['-g', '-r', file, '-l', local, ...args, '127.0.0.1', String(port())], { timeout: 60_000 });
    expect(readFileSync(local).equals(content[file]!)).toBe(true);
    const start = events.slice(since).find((e): e is TransferEvent => e.kind === 'transfer.start');
    expect(start?.options).toMatchObject(options);
    await doneEventFor(file, since);
  });
});

describe.skipIf(!has('tftp'))('tftp-hpa', () => {
  it('binary mode (octet)', async () => {
    const local = target();
    await run('tftp', ['-m', 'binary', '127.0.0.1', String(port()), '-c', 'get', 'big.bin', local], { timeout: 60_000 });
    expect(readFileSync(local).equals(content['big.bin']!)).toBe(true);
  });

  it('its default netascii mode: the client turns our CR LF / CR NUL back into the original text', async () => {
    const local = target();
    await run('tftp', ['127.0.0.1', String(port()), '-c', 'get', 'menu.txt', local], { timeout: 60_000 });
    expect(readFileSync(local).equals(content['menu.txt']!)).toBe(true);
  });

  it.skipIf(!ipv6)('over IPv6', async () => {
    const local = target();
    await run('tftp', ['-6', '-m', 'binary', '::1', String(port6()), '-c', 'get', 'exact.bin', local], { timeout: 60_000 });
    expect(readFileSync(local).equals(content['exact.bin']!)).toBe(true);
  });
});
