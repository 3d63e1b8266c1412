/**
 * Over a real link (a veth pair with a 1500-byte MTU between two namespaces this test creates), which
 * loopback cannot show: blocks larger than the MTU travel as IP fragments, where the kernel refuses
 * segmented sends (EMSGSIZE) and the server must fall back to one send per packet; windows near the MTU
 * go out segmented. Root only.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canUseNetns, createNetnsPair, type NetnsPair } from '../../bench/tftp-netns.js';
import type { TransferEvent } from '../../src/servers/events.js';

const run = promisify(execFile);
const has = (command: string): boolean => (process.env.PATH ?? '').split(':').some((dir) => existsSync(join(dir, command)));
const problem = canUseNetns() ?? (has('atftp') ? undefined : 'atftp is not installed');

describe.skipIf(problem !== undefined)(`TFTP over a veth with a 1500-byte MTU${problem ? ` — skipped: ${problem}` : ''}`, () => {
  let pair: NetnsPair;
  let root: string;
  let out: string;
  const content = randomBytes(8 * 1024 * 1024 + 5);
  const events: TransferEvent[] = [];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'pxd-tftp-netns-'));
    out = mkdtempSync(join(tmpdir(), 'pxd-tftp-netns-out-'));
    chmodSync(root, 0o755);
    writeFileSync(join(root, 'file.bin'), content);
    pair = createNetnsPair();
    const child = pair.spawn(pair.server, process.execPath, [
      '--import', 'tsx', resolve(import.meta.dirname, '../../bench/tftp-serve.ts'),
      '--address', pair.serverIp, '--port', '69', '--root', root, '--blksize-cap', '65464', '--events',
    ]);
    await new Promise<void>((ready, fail) => {
      let text = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        for (const line of text.split('\n').slice(0, -1)) {
          if (line.includes('"ready":true')) ready();
          else if (line.includes('"transfer.')) events.push(JSON.parse(line) as TransferEvent);
        }
        text = text.slice(text.lastIndexOf('\n') + 1);
      });
      child.once('exit', (code) => fail(new Error(`server exited ${code}`)));
    });
  }, 60_000);

  afterAll(() => {
    pair?.destroy();
    rmSync(root, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
  });

  it.each([
    ['blksize 1468, windowsize 16 (segmented sends)', 1468, 16, 16],
    ['blksize 8192, windowsize 4 (fragments: segmentation refused, one send per packet)', 8192, 4, 4],
    ['blksize 8192, windowsize 16 (capped to 8: 64 KiB per window)', 8192, 16, 8],
    ['blksize 65464, windowsize 4 (capped to 1)', 65464, 4, 1],
  ])('%s', { timeout: 60_000 }, async (_name, blksize, windowsize, negotiated) => {
    const local = join(out, `${blksize}-${windowsize}.bin`);
    const started = performance.now();
    await run('ip', ['netns', 'exec', pair.client, 'atftp', '-g', '-r', 'file.bin', '-l', local, '--option', `blksize ${blksize}`, '--option', `windowsize ${windowsize}`, pair.serverIp, '69'], { timeout: 50_000 });
    const seconds = (performance.now() - started) / 1000;
    expect(readFileSync(local).equals(content)).toBe(true);
    const start = events.filter((event) => event.kind === 'transfer.start').at(-1);
    expect(start?.options).toMatchObject({ blksize, windowsize: negotiated });
    // Without loss 8 MB takes well under a second; a stall on the retransmission timer would show here.
    expect(seconds).toBeLessThan(5);
  });
});
