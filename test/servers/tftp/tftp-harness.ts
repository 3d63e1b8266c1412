/**
 * The TFTP server's tests' bench: a served root of files with every size that matters (and a directory outside
 * it), a server on loopback with short retransmission timers and the events it emits, and a byte-level client.
 * Each test file that imports it gets its own root (vitest loads modules per file).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { PxedeckEvent, TransferEvent } from '../../../src/servers/events.js';
import { createTftpServer, type TftpServer, type TftpServerOptions } from '../../../src/servers/tftp/server.js';
import { RawClient, type Address } from './raw-client.js';

export let root: string;
export let outside: string;
/** The served files' contents, by name. */
export const files: Record<string, Buffer> = {};

/** Makes the root before the file's tests and removes it after them. */
export function useTftpRoot(): void {
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'pxd-tftp-root-'));
    outside = mkdtempSync(join(tmpdir(), 'pxd-tftp-outside-'));
    const put = (name: string, content: Buffer): void => {
      mkdirSync(join(root, name, '..'), { recursive: true });
      writeFileSync(join(root, name), content);
      files[name] = content;
    };
    put('empty.bin', Buffer.alloc(0));
    put('511.bin', randomBytes(511));
    put('512.bin', randomBytes(512));
    put('1000.bin', randomBytes(1000));
    put('10k.bin', randomBytes(10 * 1024));
    put('3m.bin', randomBytes(3 * 1024 * 1024));
    // 65536 blocks of 8 bytes and 5 more: block numbers wrap past 65535.
    put('wrap.bin', randomBytes(65536 * 8 + 5));
    put('text.txt', Buffer.from('first line\nsecond\r\nbare CR\r end\n'));
    put('pxelinux.cfg/default', Buffer.from('DEFAULT local\n'));
    writeFileSync(join(outside, 'chosen.bin'), Buffer.from('chosen by the boot core'));
    writeFileSync(join(root, 'sparse-5g.bin'), '');
    truncateSync(join(root, 'sparse-5g.bin'), 5_000_000_000);
  });

  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });
}

export interface Harness {
  readonly server: TftpServer;
  readonly address: Address;
  readonly events: PxedeckEvent[];
  transfers(kind?: TransferEvent['kind']): TransferEvent[];
  waitFor(predicate: (event: PxedeckEvent) => boolean, ms?: number): Promise<PxedeckEvent>;
  close(): Promise<void>;
}

export async function start(options: Partial<TftpServerOptions> = {}, address = '127.0.0.1'): Promise<Harness> {
  const events: PxedeckEvent[] = [];
  const server = await createTftpServer({
    bind: { address, port: 0 },
    root,
    emit: (event) => events.push(event),
    retransmit: { initialMs: 200, maxMs: 400, retries: 3 },
    threads: 0,
    ...options,
  });
  const transfers = (kind?: TransferEvent['kind']): TransferEvent[] =>
    events.filter((event): event is TransferEvent => event.kind.startsWith('transfer.') && (!kind || event.kind === kind));
  return {
    server,
    address: server.addresses[0]!,
    events,
    transfers,
    async waitFor(predicate, ms = 5000) {
      const deadline = performance.now() + ms;
      while (performance.now() < deadline) {
        const found = events.find(predicate);
        if (found) return found;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      throw new Error(`no matching event in ${ms} ms; saw ${events.map((event) => event.kind).join(', ')}`);
    },
    close: () => server.close(),
  };
}

export async function withClient<T>(run: (client: RawClient) => Promise<T>, address = '127.0.0.1'): Promise<T> {
  const client = await RawClient.open(address);
  try {
    return await run(client);
  } finally {
    await client.close();
  }
}
