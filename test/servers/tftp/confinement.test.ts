/**
 * Nothing outside the root is ever served: each name below goes to the real server over loopback as a
 * raw RRQ; refused names get ERROR 1 or 2 (4 where the name ends at a NUL and the rest is not a mode)
 * and an event; the secret outside the root never appears in any reply.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PxedeckEvent, TransferEvent } from '../../../src/servers/events.js';
import { createTftpServer, type TftpServer } from '../../../src/servers/tftp/server.js';
import { RawClient } from './raw-client.js';

const SECRET = 'SECRET-OUTSIDE-THE-ROOT';
let base: string;
let root: string;
let outside: string;
let server: TftpServer;
let rootRelative: TftpServer;
const events: PxedeckEvent[] = [];

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'pxd-tftp-confine-'));
  root = join(base, 'root');
  outside = join(base, 'outside');
  mkdirSync(join(root, 'sub'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret.txt'), SECRET);
  writeFileSync(join(root, 'ok.txt'), 'inside');
  writeFileSync(join(root, 'sub', 'inner.txt'), 'inner');
  symlinkSync('sub/inner.txt', join(root, 'link-in'));
  symlinkSync(join(root, 'ok.txt'), join(root, 'link-abs-in'));
  symlinkSync(join(outside, 'secret.txt'), join(root, 'escape'));
  symlinkSync('../outside/secret.txt', join(root, 'escape-rel'));
  symlinkSync(outside, join(root, 'outdir'));
  symlinkSync('/etc/passwd', join(root, 'passwd'));
  symlinkSync('chain2', join(root, 'chain1'));
  symlinkSync('../outside/secret.txt', join(root, 'chain2'));
  symlinkSync('loop2', join(root, 'loop1'));
  symlinkSync('loop1', join(root, 'loop2'));
  symlinkSync('/', join(root, 'slash'));
  execFileSync('mkfifo', [join(root, 'fifo')]);
  // The root itself named through a symlink: confinement compares real paths.
  symlinkSync(root, join(base, 'root-link'));
  const options = { root: join(base, 'root-link'), emit: (event: PxedeckEvent) => events.push(event), threads: 0 };
  server = await createTftpServer({ ...options, bind: { address: '127.0.0.1', port: 0 } });
  rootRelative = await createTftpServer({ ...options, bind: { address: '127.0.0.1', port: 0 }, absolutePaths: 'root-relative' });
});

afterAll(async () => {
  await server?.close();
  await rootRelative?.close();
  rmSync(base, { recursive: true, force: true });
});

async function ask(target: TftpServer, name: Buffer): Promise<{ kind: string; code?: number; data?: string }> {
  const client = await RawClient.open();
  try {
    client.send(Buffer.concat([Buffer.from([0, 1]), name, Buffer.from('\0octet\0')]), target.addresses[0]!);
    const reply = await client.next(3000);
    if (!reply) return { kind: 'nothing' };
    if (reply.packet.type === 'error') return { kind: 'error', code: reply.packet.code };
    if (reply.packet.type === 'data') {
      client.send({ type: 'ack', block: reply.packet.block }, reply.from);
      return { kind: 'data', data: Buffer.from(reply.packet.data).toString('latin1') };
    }
    return { kind: reply.packet.type };
  } finally {
    await client.close();
  }
}

const text = (name: string): Buffer => Buffer.from(name, 'utf8');

const refused: [string, Buffer, readonly number[]][] = [
  ['../outside/secret.txt', text('../outside/secret.txt'), [2]],
  ['..\\outside\\secret.txt', text('..\\outside\\secret.txt'), [2]],
  ['sub/../../outside/secret.txt', text('sub/../../outside/secret.txt'), [2]],
  ['sub\\..\\..\\outside\\secret.txt', text('sub\\..\\..\\outside\\secret.txt'), [2]],
  ['..', text('..'), [2]],
  ['../', text('../'), [2]],
  ['sub/..', text('sub/..'), [2]],
  ['/etc/passwd', text('/etc/passwd'), [2]],
  ['<absolute path of the secret>', Buffer.alloc(0), [2]],
  ['//etc/passwd', text('//etc/passwd'), [2]],
  ['\\etc\\passwd', text('\\etc\\passwd'), [2]],
  ['\\\\server\\share\\x', text('\\\\server\\share\\x'), [2]],
  ['C:\\Windows\\win.ini', text('C:\\Windows\\win.ini'), [2]],
  ['c:/x', text('c:/x'), [2]],
  ['%2e%2e/outside/secret.txt', text('%2e%2e/outside/secret.txt'), [2]],
  ['..%2foutside%2fsecret.txt', text('..%2foutside%2fsecret.txt'), [2]],
  ['%2E%2E%5Coutside%5Csecret.txt', text('%2E%2E%5Coutside%5Csecret.txt'), [2]],
  ['%252e%252e/outside', text('%252e%252e/outside'), [2]],
  ['ok.txt%00.png', text('ok.txt%00.png'), [2]],
  ['ok.txt<NUL>../../outside/secret.txt', text('ok.txt\u0000../../outside/secret.txt'), [4]],
  ['..<0xc0 0xaf>outside (overlong UTF-8 slash)', Buffer.from([0x2e, 0x2e, 0xc0, 0xaf, 0x6f]), [2]],
  ['invalid UTF-8 <0xff>', Buffer.from([0x6f, 0xff]), [2]],
  ['ok.txt<LF>', text('ok.txt\n'), [2]],
  ['escape (symlink to an absolute path outside)', text('escape'), [2]],
  ['escape-rel (symlink ../outside/…)', text('escape-rel'), [2]],
  ['outdir/secret.txt (directory symlink out)', text('outdir/secret.txt'), [2]],
  ['passwd (symlink to /etc/passwd)', text('passwd'), [2]],
  ['slash/etc/passwd (symlink to /)', text('slash/etc/passwd'), [2]],
  ['chain1 (symlink to a symlink out)', text('chain1'), [2]],
  ['loop1 (symlink loop)', text('loop1'), [2]],
  ['fifo (not a regular file, must not hang)', text('fifo'), [2]],
  ['sub (a directory)', text('sub'), [2]],
  ['. (the root itself)', text('.'), [2]],
  ['....//....//outside/secret.txt', text('....//....//outside/secret.txt'), [1]],
  ['．．/outside/secret.txt (fullwidth dots)', text('．．/outside/secret.txt'), [1]],
  ['missing.txt', text('missing.txt'), [1]],
];

describe('confinement', () => {
  it(`the table tries ${refused.length} names`, () => {
    expect(refused.length).toBeGreaterThanOrEqual(30);
  });

  it.each(refused)('%s → refused', async (label, bytes, codes) => {
    const name = label === '<absolute path of the secret>' ? text(join(outside, 'secret.txt')) : bytes;
    const before = events.length;
    const reply = await ask(server, name);
    expect(reply.kind).toBe('error');
    expect(codes).toContain(reply.code);
    // Every refusal is an event: refused or not-found; the NUL case does not even decode (the bytes after
    // the NUL stand where the mode belongs), so it is a malformed packet.
    const deadline = performance.now() + 1000;
    while (events.length === before && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    const event = events.slice(before).find((e) => e.kind.startsWith('transfer.') || e.kind === 'packet.malformed') as
      | TransferEvent
      | { kind: 'packet.malformed'; error: string }
      | undefined;
    expect(event?.kind).toMatch(codes.includes(4) ? /^packet\.malformed$/ : /^transfer\.(refused|not-found)$/);
    expect(event?.error).toBeTruthy();
  });

  it.each([
    ['ok.txt', 'inside'],
    ['./ok.txt', 'inside'],
    ['sub/inner.txt', 'inner'],
    ['sub\\inner.txt', 'inner'],
    ['sub//inner.txt', 'inner'],
    ['link-in (symlink inside)', 'inner'],
    ['link-abs-in (absolute symlink that stays inside)', 'inside'],
  ])('%s is served', async (label, content) => {
    const reply = await ask(server, text(label.split(' ')[0]!));
    expect(reply).toEqual({ kind: 'data', data: content });
  });

  it('root-relative mode serves /ok.txt and \\sub\\inner.txt but still nothing outside', async () => {
    expect(await ask(rootRelative, text('/ok.txt'))).toEqual({ kind: 'data', data: 'inside' });
    expect(await ask(rootRelative, text('\\sub\\inner.txt'))).toEqual({ kind: 'data', data: 'inner' });
    expect(await ask(rootRelative, text(join(outside, 'secret.txt')))).toMatchObject({ kind: 'error', code: 1 });
    expect(await ask(rootRelative, text('/../outside/secret.txt'))).toMatchObject({ kind: 'error', code: 2 });
    expect(await ask(rootRelative, text('/escape'))).toMatchObject({ kind: 'error', code: 2 });
  });

  it('the secret never appeared in any event', () => {
    expect(JSON.stringify(events)).not.toContain(SECRET);
  });
});
