// Upstream files through the cache, with a second real HTTP server on 127.0.0.1 standing in for the
// internet origin: one origin fetch however many clients, streaming to the first while it caches.
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { curl, ofKind, startServer, tempDir, waitFor, type RunningServer } from './fixtures.js';

const FILE = randomBytes(8 * 2 ** 20 + 3);
const CHUNK = 256 * 1024;

/** A gate the origin waits on after its first chunk, so a test decides when the download may finish. */
class Gate {
  #open = false;
  #waiters: Array<() => void> = [];
  wait(): Promise<void> {
    return this.#open ? Promise.resolve() : new Promise((resolve) => this.#waiters.push(resolve));
  }
  release(): void {
    this.#open = true;
    for (const resolve of this.#waiters.splice(0)) resolve();
  }
  reset(): void {
    this.#open = false;
  }
}

interface Origin {
  readonly base: string;
  readonly requests: string[];
  gate: Gate;
  mode: 'normal' | 'chunked' | 'fail-midway';
}

let origin: Origin;
let originServer: Server;
let scratch: Awaited<ReturnType<typeof tempDir>>;
const running: RunningServer[] = [];

async function respond(origin: Origin, req: IncomingMessage, res: ServerResponse): Promise<void> {
  origin.requests.push(req.url ?? '');
  if (!req.url?.startsWith('/pub/')) {
    res.writeHead(404).end('no');
    return;
  }
  const headers: Record<string, string> = { 'content-type': 'application/x-test' };
  if (origin.mode !== 'chunked') headers['content-length'] = String(FILE.length);
  res.writeHead(200, headers);
  res.write(FILE.subarray(0, CHUNK));
  await origin.gate.wait();
  for (let offset = CHUNK; offset < FILE.length; offset += CHUNK) {
    if (origin.mode === 'fail-midway' && offset >= FILE.length / 2) {
      res.destroy();
      return;
    }
    if (!res.write(FILE.subarray(offset, offset + CHUNK))) await new Promise((resolve) => res.once('drain', resolve));
  }
  res.end();
}

beforeAll(async () => {
  scratch = await tempDir('upstream');
  const requests: string[] = [];
  origin = { base: '', requests, gate: new Gate(), mode: 'normal' };
  originServer = createServer((req, res) => void respond(origin, req, res));
  await new Promise<void>((resolve) => originServer.listen(0, '127.0.0.1', resolve));
  origin = Object.assign(origin, { base: `http://127.0.0.1:${(originServer.address() as AddressInfo).port}` });
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()));
  origin.requests.length = 0;
  origin.gate = new Gate();
  origin.mode = 'normal';
});

afterAll(async () => {
  originServer?.closeAllConnections();
  await new Promise((resolve) => originServer?.close(resolve));
  await scratch?.remove();
});

async function start(cacheName: string, sources: Record<string, string>): Promise<RunningServer> {
  const server = await startServer({
    roots: [],
    upstream: { cacheDir: join(scratch.dir, cacheName), lookup: (id) => sources[id] },
  });
  running.push(server);
  return server;
}

async function readAll(response: Response): Promise<Buffer> {
  return Buffer.from(await response.arrayBuffer());
}

describe('upstream cache', () => {
  it('streams to the first client while caching; a concurrent second client shares the one origin fetch; a later one reads the cache', async () => {
    const { base, events } = await start('shared', { debian: `${origin.base}/pub/initrd.gz` });
    const first = await fetch(`${base}/upstream/debian/initrd.gz?mac=52:54:00:00:00:01`);
    expect(first.status).toBe(200);
    expect(first.headers.get('content-length')).toBe(String(FILE.length));
    const firstReader = first.body!.getReader();
    // The first client has bytes before the origin has finished (it is held at its first chunk).
    const head = await firstReader.read();
    expect(head.value!.byteLength).toBeGreaterThan(0);

    const second = fetch(`${base}/upstream/debian/initrd.gz?mac=52:54:00:00:00:02`).then(readAll);
    await waitFor(() => ofKind(events, 'transfer.start').length === 2);
    expect(origin.requests).toEqual(['/pub/initrd.gz']);

    origin.gate.release();
    const chunks: Uint8Array[] = [head.value!];
    for (let next = await firstReader.read(); !next.done; next = await firstReader.read()) chunks.push(next.value);
    expect(Buffer.concat(chunks).equals(FILE)).toBe(true);
    expect((await second).equals(FILE)).toBe(true);
    expect(origin.requests).toHaveLength(1);

    await waitFor(() => ofKind(events, 'upstream.done').length === 1);
    expect(ofKind(events, 'upstream.start')).toHaveLength(1);
    expect(ofKind(events, 'upstream.done')[0]).toMatchObject({ url: `${origin.base}/pub/initrd.gz`, bytes: FILE.length, size: FILE.length });
    await waitFor(() => ofKind(events, 'transfer.done').length === 2);
    expect(ofKind(events, 'transfer.done').map((event) => [event.mac, event.bytes]).sort()).toEqual([
      ['52:54:00:00:00:01', FILE.length],
      ['52:54:00:00:00:02', FILE.length],
    ]);

    const later = await fetch(`${base}/upstream/debian/initrd.gz`);
    expect(later.headers.get('etag')).toBeTruthy();
    expect((await readAll(later)).equals(FILE)).toBe(true);
    const ranged = await fetch(`${base}/upstream/debian/initrd.gz`, { headers: { range: 'bytes=100-199' } });
    expect(ranged.status).toBe(206);
    expect((await readAll(ranged)).equals(FILE.subarray(100, 200))).toBe(true);
    expect(origin.requests).toHaveLength(1);
  });

  it('keeps the cache across a restart of the server', async () => {
    origin.gate.release();
    const sources = { k: `${origin.base}/pub/vmlinuz` };
    const first = await start('restart', sources);
    expect((await readAll(await fetch(`${first.base}/upstream/k/vmlinuz`))).equals(FILE)).toBe(true);
    await waitFor(() => ofKind(first.events, 'upstream.done').length === 1);
    await first.close();
    const second = await start('restart', sources);
    expect((await readAll(await fetch(`${second.base}/upstream/k/vmlinuz`))).equals(FILE)).toBe(true);
    expect(origin.requests).toEqual(['/pub/vmlinuz']);
    expect(ofKind(second.events, 'upstream.start')).toHaveLength(0);
  });

  it('serves a range from a download in progress by waiting for those bytes', async () => {
    const { base } = await start('range-live', { r: `${origin.base}/pub/big` });
    const whole = fetch(`${base}/upstream/r/big`).then(readAll);
    const tail = fetch(`${base}/upstream/r/big`, { headers: { range: `bytes=${FILE.length - 1000}-` } });
    setTimeout(() => origin.gate.release(), 100);
    const response = await tail;
    expect(response.status).toBe(206);
    expect(response.headers.get('content-range')).toBe(`bytes ${FILE.length - 1000}-${FILE.length - 1}/${FILE.length}`);
    expect((await readAll(response)).equals(FILE.subarray(-1000))).toBe(true);
    expect((await whole).equals(FILE)).toBe(true);
    expect(origin.requests).toHaveLength(1);
  });

  it('streams an origin that sends no length (chunked) and caches it', async () => {
    origin.mode = 'chunked';
    origin.gate.release();
    const { base, events } = await start('chunked', { c: `${origin.base}/pub/chunked` });
    const response = await fetch(`${base}/upstream/c/file`);
    expect(response.headers.get('content-length')).toBeNull();
    expect((await readAll(response)).equals(FILE)).toBe(true);
    await waitFor(() => ofKind(events, 'upstream.done').length === 1);
    const cached = await fetch(`${base}/upstream/c/file`, { method: 'HEAD' });
    expect(cached.headers.get('content-length')).toBe(String(FILE.length));
  });

  it('maps a source URL ending in / to a directory: the name is the path under it', async () => {
    origin.gate.release();
    const { base } = await start('dir', { mirror: `${origin.base}/pub/` });
    const response = await fetch(`${base}/upstream/mirror/netboot/linux`);
    expect(response.status).toBe(200);
    await readAll(response);
    expect(origin.requests).toEqual(['/pub/netboot/linux']);
  });

  it('passes an origin 404 on, and 404s unknown sources without asking the origin', async () => {
    const { base, events } = await start('missing', { gone: `${origin.base}/elsewhere/file` });
    const response = await fetch(`${base}/upstream/gone/file`);
    expect(response.status).toBe(404);
    expect(await response.text()).toMatch(/origin answered 404/);
    expect((await fetch(`${base}/upstream/unknown/file`)).status).toBe(404);
    expect((await fetch(`${base}/upstream/gone`)).status).toBe(404);
    expect(origin.requests).toEqual(['/elsewhere/file']);
    expect(ofKind(events, 'upstream.error')).toHaveLength(1);
  });

  it('answers 502 when the origin is unreachable', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const { base } = await start('unreachable', { x: `http://127.0.0.1:${port}/file` });
    const response = await fetch(`${base}/upstream/x/file`);
    expect(response.status).toBe(502);
  });

  it('cuts clients off when the origin fails midway, leaves no partial cache, and fetches again next time', async () => {
    origin.mode = 'fail-midway';
    origin.gate.release();
    const cacheName = 'fail';
    const { base, events } = await start(cacheName, { f: `${origin.base}/pub/fail` });
    const result = await curl(['-f', '-o', '/dev/null', `${base}/upstream/f/file?mac=52:54:00:00:00:03`]);
    expect(result.code).not.toBe(0);
    await waitFor(() => ofKind(events, 'upstream.error').length === 1 && ofKind(events, 'transfer.error').length === 1);
    expect(ofKind(events, 'transfer.error')[0]).toMatchObject({ mac: '52:54:00:00:00:03' });
    expect((await readdir(join(scratch.dir, cacheName))).filter((name) => !name.endsWith('.json'))).toEqual([]);

    origin.mode = 'normal';
    const retry = await fetch(`${base}/upstream/f/file`);
    expect((await readAll(retry)).equals(FILE)).toBe(true);
    expect(origin.requests).toHaveLength(2);
  });
});
