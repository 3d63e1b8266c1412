/**
 * Many machines at once: 64 real clients download a 30 MB file together (half curl at windowsize 1, half
 * atftp at windowsize 4 as OVMF asks), every copy byte-identical; a 65th request beyond the configured
 * cap gets a clear error while they run. Outputs go to /dev/shm when it exists (1.9 GB of writes).
 */
import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PxedeckEvent, TransferEvent } from '../../src/servers/events.js';
import { createTftpServer, type TftpServer } from '../../src/servers/tftp/server.js';

const run = promisify(execFile);
const has = (command: string): boolean => (process.env.PATH ?? '').split(':').some((dir) => existsSync(join(dir, command)));
const CLIENTS = 64;
const SIZE = 30 * 1024 * 1024;

function sha256(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });
}

function exitOf(command: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

describe.skipIf(!has('curl') || !has('atftp'))(`${CLIENTS} concurrent downloads of a 30 MB file`, () => {
  let root: string;
  let out: string;
  let server: TftpServer;
  let expected: string;
  const events: PxedeckEvent[] = [];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'pxd-tftp-many-'));
    out = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'pxd-tftp-many-out-'));
    writeFileSync(join(root, 'big.bin'), randomBytes(SIZE));
    expected = await sha256(join(root, 'big.bin'));
    server = await createTftpServer({ bind: { address: '127.0.0.1', port: 0 }, root, emit: (event) => events.push(event),
      maxTransfers: CLIENTS,
      // Every client here is 127.0.0.1: the per-client cap (there for firmware that stalls) would refuse all but a few.
      maxTransfersPerClient: CLIENTS + 1,
    });
  });

  afterAll(async () => {
    await server?.close();
    rmSync(root, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
  });

  it('all complete with the same bytes; one more request is refused while they run', { timeout: 180_000 }, async () => {
    const port = String(server.addresses[0]!.port);
    const started = performance.now();
    const downloads = Array.from({ length: CLIENTS }, (_, i) => {
      const local = join(out, `copy-${i}.bin`);
      const done =
        i % 2 === 0
          ? run('curl', ['-sS', '--max-time', '170', '--tftp-blksize', '1468', '-o', local, `tftp://127.0.0.1:${port}/big.bin`])
          : run('atftp', ['-g', '-r', 'big.bin', '-l', local, '--option', 'blksize 1468', '--option', 'windowsize 4', '127.0.0.1', port], { timeout: 170_000 });
      // Settled, so that a failure below still waits for (and reports) every client.
      return done.then(
        () => ({ local, error: undefined }),
        (error: unknown) => ({ local, error: String(error) }),
      );
    });

    const deadline = performance.now() + 20_000;
    while (server.activeTransfers < CLIENTS && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(server.activeTransfers).toBe(CLIENTS);
    // atftp prints the server's message (curl 7.88 prints a getpeername() error instead).
    const extra = await exitOf('atftp', ['-g', '-r', 'big.bin', '-l', join(out, 'extra.bin'), '127.0.0.1', port]);
    const results = await Promise.all(downloads);
    expect(extra.code).not.toBe(0);
    expect(extra.stderr).toMatch(/server busy/);
    expect(results.filter((result) => result.error)).toEqual([]);
    const locals = results.map((result) => result.local);
    const seconds = (performance.now() - started) / 1000;
    const hashes = await Promise.all(locals.map(sha256));
    expect(hashes.filter((hash) => hash !== expected)).toEqual([]);
    const done = events.filter((e): e is TransferEvent => e.kind === 'transfer.done' && e.bytes === SIZE);
    expect(done.length).toBeGreaterThanOrEqual(CLIENTS - 2); // curl may leave before its last ACK lands
    expect(events.some((e) => e.kind === 'transfer.refused' && /busy/.test((e as TransferEvent).error ?? ''))).toBe(true);
    // For the record (2 cores, shared): ~1.9 GB in total.
    console.info(`${CLIENTS} × 30 MB in ${seconds.toFixed(1)} s: ${((CLIENTS * SIZE) / 1e6 / seconds).toFixed(0)} MB/s in total`);
  });
});
