// Revalidation, replacement, stale-if-error and eviction of the upstream cache, against a real node:http
// origin on 127.0.0.1 that each test controls: its validators, its max-age, 304s, a changed body, a 5xx,
// a hang, and going down.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { HttpServerOptions } from '../../../src/servers/http/server.js';
import { UpstreamCache } from '../../../src/servers/http/upstream-cache.js';
import { ofKind, startServer, tempDir, waitFor, type RunningServer } from './fixtures.js';

const CHUNK = 256 * 1024;

interface Version {
  readonly body: Buffer;
  readonly etag: string;
  readonly lastModified: string;
}

interface OriginRequest {
  readonly path: string;
  readonly ifNoneMatch?: string;
  readonly ifModifiedSince?: string;
}

class Origin {
  readonly requests: OriginRequest[] = [];
  readonly files = new Map<string, Version>();
  cacheControl = 'max-age=3600';
  mode: 'up' | 'error' | 'hang' = 'up';
  /** When set, a 200 body stops after its first chunk until this resolves. */
  hold?: Promise<void>;
  base = '';
  #server = createServer((req, res) => void this.#respond(req, res));
  #hung: ServerResponse[] = [];

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  /** The origin goes away: its port refuses connections from now on. */
  async stop(): Promise<void> {
    for (const res of this.#hung.splice(0)) res.destroy();
    this.#server.closeAllConnections();
    await new Promise((resolve) => this.#server.close(resolve));
  }

  set(path: string, body: Buffer, tag: string, modified = new Date('2025-01-01T00:00:00Z')): Version {
    const version = { body, etag: `"${tag}"`, lastModified: modified.toUTCString() };
    this.files.set(path, version);
    return version;
  }

  async #respond(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = req.url ?? '';
    this.requests.push({
      path,
      ...(req.headers['if-none-match'] && { ifNoneMatch: req.headers['if-none-match'] }),
      ...(req.headers['if-modified-since'] && { ifModifiedSince: req.headers['if-modified-since'] }),
    });
    if (this.mode === 'hang') {
      this.#hung.push(res);
      return;
    }
    if (this.mode === 'error') {
      res.writeHead(503).end('mirror sync in progress');
      return;
    }
    const version = this.files.get(path);
    if (!version) {
      res.writeHead(404).end('no');
      return;
    }
    const validators = { etag: version.etag, 'last-modified': version.lastModified, 'cache-control': this.cacheControl };
    if (req.headers['if-none-match'] === version.etag) {
      res.writeHead(304, validators).end();
      return;
    }
    res.writeHead(200, { ...validators, 'content-type': 'application/x-test', 'content-length': String(version.body.length) });
    const hold = this.hold;
    for (let offset = 0; offset < version.body.length; offset += CHUNK) {
      if (!res.write(version.body.subarray(offset, offset + CHUNK))) await new Promise((resolve) => res.once('drain', resolve));
      if (offset === 0 && hold) await hold;
    }
    res.end();
  }
}

let scratch: Awaited<ReturnType<typeof tempDir>>;
const running: RunningServer[] = [];
const origins: Origin[] = [];
const sockets: Socket[] = [];

beforeAll(async () => {
  scratch = await tempDir('revalidate');
});

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(running.splice(0).map((server) => server.close()));
  await Promise.all(origins.splice(0).map((origin) => origin.stop().catch(() => undefined)));
});

afterAll(async () => {
  await scratch?.remove();
});

async function newOrigin(): Promise<Origin> {
  const origin = await new Origin().start();
  origins.push(origin);
  return origin;
}

type Tuning = Omit<NonNullable<HttpServerOptions['upstream']>, 'cacheDir' | 'lookup'>;

async function start(cacheName: string, origin: Origin, tuning: Tuning = {}): Promise<RunningServer> {
  const server = await startServer({
    roots: [],
    upstream: { cacheDir: join(scratch.dir, cacheName), lookup: (id) => `${origin.base}/pub/${id}`, ...tuning },
  });
  running.push(server);
  return server;
}

async function get(server: RunningServer, id: string): Promise<Buffer> {
  const response = await fetch(`${server.base}/upstream/${id}/file`);
  expect(response.status).toBe(200);
  return Buffer.from(await response.arrayBuffer());
}

async function dataFiles(cacheName: string): Promise<string[]> {
  return (await readdir(join(scratch.dir, cacheName))).filter((name) => name.endsWith('.data')).sort();
}

describe('upstream cache freshness', () => {
  it('serves a fresh copy without contacting the origin', async () => {
    const origin = await newOrigin();
    const v1 = origin.set('/pub/kernel', randomBytes(300_000), 'v1');
    const server = await start('fresh', origin);
    expect((await get(server, 'kernel')).equals(v1.body)).toBe(true);
    await waitFor(() => ofKind(server.events, 'upstream.done').length === 1);
    for (let i = 0; i < 3; i++) expect((await get(server, 'kernel')).equals(v1.body)).toBe(true);
    expect(origin.requests).toHaveLength(1);
    expect(server.events.filter((event) => event.kind.startsWith('upstream.') && !['upstream.start', 'upstream.progress', 'upstream.done'].includes(event.kind))).toEqual([]);
  });

  it('revalidates a stale copy with If-None-Match and If-Modified-Since; a 304 keeps it and makes it fresh again', async () => {
    const origin = await newOrigin();
    origin.cacheControl = 'max-age=0';
    const v1 = origin.set('/pub/initrd', randomBytes(300_000), 'v1');
    const server = await start('revalidate', origin);
    expect((await get(server, 'initrd')).equals(v1.body)).toBe(true);
    await waitFor(() => ofKind(server.events, 'upstream.done').length === 1);

    origin.cacheControl = 'max-age=3600';
    expect((await get(server, 'initrd')).equals(v1.body)).toBe(true);
    expect(origin.requests).toEqual([{ path: '/pub/initrd' }, { path: '/pub/initrd', ifNoneMatch: v1.etag, ifModifiedSince: v1.lastModified }]);
    const [revalidated] = ofKind(server.events, 'upstream.revalidated');
    expect(revalidated).toMatchObject({ url: `${origin.base}/pub/initrd`, bytes: v1.body.length });
    expect(revalidated!.freshUntil! - Date.now()).toBeGreaterThan(3_500_000);
    expect(ofKind(server.events, 'upstream.start')).toHaveLength(1);

    // Fresh again from the 304's max-age: no third origin request.
    expect((await get(server, 'initrd')).equals(v1.body)).toBe(true);
    expect(origin.requests).toHaveLength(2);
  });

  it('replaces the copy on a 200: fetched once while streaming to its first clients, while a client of the old copy still gets every old byte', async () => {
    const origin = await newOrigin();
    origin.cacheControl = 'max-age=0';
    const v1 = origin.set('/pub/iso', randomBytes(24 * 2 ** 20), 'v1');
    const server = await start('replace', origin);
    expect((await get(server, 'iso')).equals(v1.body)).toBe(true);
    await waitFor(() => ofKind(server.events, 'upstream.done').length === 1);

    // An old reader takes its first bytes, then stops reading: 24 MiB cannot all sit in socket buffers.
    origin.set('/pub/iso', v1.body, 'v1');
    const oldResponse = await fetch(`${server.base}/upstream/iso/file`);
    const oldReader = oldResponse.body!.getReader();
    const oldChunks: Uint8Array[] = [(await oldReader.read()).value!];
    expect(origin.requests.at(-1)).toMatchObject({ ifNoneMatch: v1.etag });

    const v2 = origin.set('/pub/iso', randomBytes(5 * 2 ** 20 + 7), 'v2', new Date('2025-02-01T00:00:00Z'));
    let release!: () => void;
    origin.hold = new Promise((resolve) => (release = resolve));
    const requestsBefore = origin.requests.length;
    const first = await fetch(`${server.base}/upstream/iso/file`);
    expect(first.headers.get('content-length')).toBe(String(v2.body.length));
    const firstReader = first.body!.getReader();
    const head = await firstReader.read();
    // The first client has new bytes before the origin has finished (held at its first chunk).
    expect(Buffer.from(head.value!).equals(v2.body.subarray(0, head.value!.byteLength))).toBe(true);
    const second = fetch(`${server.base}/upstream/iso/file`).then(async (response) => Buffer.from(await response.arrayBuffer()));
    await waitFor(() => ofKind(server.events, 'transfer.start').length === 4);
    release();
    const firstChunks: Uint8Array[] = [head.value!];
    for (let next = await firstReader.read(); !next.done; next = await firstReader.read()) firstChunks.push(next.value);
    expect(Buffer.concat(firstChunks).equals(v2.body)).toBe(true);
    expect((await second).equals(v2.body)).toBe(true);
    expect(origin.requests.length - requestsBefore).toBe(1);

    await waitFor(() => ofKind(server.events, 'upstream.replaced').length === 1);
    expect(ofKind(server.events, 'upstream.replaced')[0]).toMatchObject({ url: `${origin.base}/pub/iso`, bytes: v2.body.length });
    expect(await dataFiles('replace')).toHaveLength(1);

    // The old reader, which never stopped being served, finishes with the old bytes, all of them.
    for (let next = await oldReader.read(); !next.done; next = await oldReader.read()) oldChunks.push(next.value);
    expect(Buffer.concat(oldChunks).equals(v1.body)).toBe(true);

    // The new copy is what the cache serves now (revalidated against its own ETag).
    expect((await get(server, 'iso')).equals(v2.body)).toBe(true);
    expect(origin.requests.at(-1)).toMatchObject({ ifNoneMatch: v2.etag, ifModifiedSince: v2.lastModified });
  }, 30_000);

  it('serves the stale copy when the origin answers 5xx, hangs, or is gone, and says so each time', async () => {
    const origin = await newOrigin();
    origin.cacheControl = 'max-age=0';
    const v1 = origin.set('/pub/vmlinuz', randomBytes(200_000), 'v1');
    const server = await start('stale', origin, { staleRetryMs: 0, revalidateTimeoutMs: 300 });
    expect((await get(server, 'vmlinuz')).equals(v1.body)).toBe(true);
    await waitFor(() => ofKind(server.events, 'upstream.done').length === 1);

    origin.mode = 'error';
    expect((await get(server, 'vmlinuz')).equals(v1.body)).toBe(true);
    origin.mode = 'hang';
    const hangStarted = Date.now();
    expect((await get(server, 'vmlinuz')).equals(v1.body)).toBe(true);
    expect(Date.now() - hangStarted).toBeLessThan(3000);
    await origin.stop();
    expect((await get(server, 'vmlinuz')).equals(v1.body)).toBe(true);

    const stale = ofKind(server.events, 'upstream.stale');
    expect(stale.map((event) => event.error)).toEqual([
      expect.stringMatching(/origin answered 503/),
      expect.stringMatching(/no answer within 300 ms/),
      expect.stringMatching(/cannot reach/),
    ]);
    expect(stale.every((event) => event.url === `${origin.base}/pub/vmlinuz` && event.bytes === v1.body.length)).toBe(true);
    expect(ofKind(server.events, 'upstream.error')).toHaveLength(0);
  });

  it('backs off after a failed revalidation: the stale copy is served without asking again until the retry time', async () => {
    const origin = await newOrigin();
    origin.cacheControl = 'max-age=0';
    const v1 = origin.set('/pub/k', randomBytes(1000), 'v1');
    const server = await start('backoff', origin, { staleRetryMs: 60_000 });
    await get(server, 'k');
    await waitFor(() => ofKind(server.events, 'upstream.done').length === 1);
    origin.mode = 'error';
    expect((await get(server, 'k')).equals(v1.body)).toBe(true);
    expect((await get(server, 'k')).equals(v1.body)).toBe(true);
    expect(origin.requests).toHaveLength(2);
    expect(ofKind(server.events, 'upstream.stale')).toHaveLength(2);
  });
});

describe('upstream cache on disk', () => {
  it('reads a sidecar written before revalidation existed, and removes data no sidecar names', async () => {
    const origin = await newOrigin();
    const body = randomBytes(5000);
    const url = `${origin.base}/pub/old`;
    const key = UpstreamCache.keyFor(url);
    const dir = join(scratch.dir, 'legacy');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, `${key}.data`), body);
    await writeFile(join(dir, `${key}.json`), JSON.stringify({ url, size: body.length, etag: '"old"', fetchedAt: Date.now() }));
    await writeFile(join(dir, `${key}.0badc0de.part-12345678`), 'crashed mid-download');
    await writeFile(join(dir, `${key}.0badc0de.data`), 'crashed mid-swap');
    const server = await start('legacy', origin);
    expect((await get(server, 'old')).equals(body)).toBe(true);
    expect(origin.requests).toEqual([]);
    expect(await readdir(dir)).toEqual(expect.arrayContaining([`${key}.data`, `${key}.json`]));
    expect(await readdir(dir)).toHaveLength(2);
  });
});

describe('upstream cache eviction', () => {
  const SIZE = 24 * 2 ** 20;

  /** A client that sends its request and then reads nothing: the server is still sending when it returns. */
  async function stalledReader(server: RunningServer, id: string): Promise<void> {
    const socket = connect({ host: '127.0.0.1', port: server.server.port });
    sockets.push(socket);
    socket.pause();
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.write(`GET /upstream/${id}/file HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    await waitFor(() => ofKind(server.events, 'transfer.start').some((event) => event.file === `/upstream/${id}/file` && event.peer?.endsWith(`:${socket.localPort}`)));
  }

  const pause = () => new Promise((resolve) => setTimeout(resolve, 5));

  it('evicts least-recently-used files above the cap, never one being read', async () => {
    const origin = await newOrigin();
    for (const id of ['a', 'b', 'c', 'd', 'e']) origin.set(`/pub/${id}`, Buffer.alloc(SIZE, id), id);
    const server = await start('evict', origin, { limitBytes: 3 * SIZE });
    for (const id of ['a', 'b', 'c']) {
      await get(server, id);
      await pause();
    }
    await waitFor(() => ofKind(server.events, 'upstream.done').length === 3);
    await get(server, 'a');
    await pause();
    // Least recent now: b, then c, then a. b is being read while d arrives, so c goes.
    await stalledReader(server, 'b');
    await pause();
    expect((await get(server, 'd')).equals(Buffer.alloc(SIZE, 'd'))).toBe(true);
    // Room is made when d's download reserves it; d's file is renamed into place after its last byte went out.
    await waitFor(() => ofKind(server.events, 'upstream.evicted').length === 1 && ofKind(server.events, 'upstream.done').length === 4);
    expect(ofKind(server.events, 'upstream.evicted')[0]).toMatchObject({ url: `${origin.base}/pub/c`, bytes: SIZE, limitBytes: 3 * SIZE, totalBytes: 3 * SIZE });
    expect(await dataFiles('evict')).toHaveLength(3);

    // Once b's reader is gone, recency alone decides: a (used before b's read began) goes next.
    for (const socket of sockets.splice(0)) socket.destroy();
    await waitFor(() => ofKind(server.events, 'http.request').some((event) => event.path === '/upstream/b/file'));
    await get(server, 'e');
    await waitFor(() => ofKind(server.events, 'upstream.evicted').length === 2 && ofKind(server.events, 'upstream.done').length === 5);
    expect(ofKind(server.events, 'upstream.evicted').map((event) => event.url.slice(-1))).toEqual(['c', 'a']);
    expect(await dataFiles('evict')).toHaveLength(3);

    // An evicted file is fetched again; the ones kept are served without the origin.
    const before = origin.requests.length;
    await get(server, 'b');
    await get(server, 'd');
    expect(origin.requests.length).toBe(before);
    await get(server, 'c');
    expect(origin.requests.slice(before).map((request) => request.path)).toEqual(['/pub/c']);
  }, 30_000);
});

describe('upstream cache, an origin that never finishes', () => {
  it('a first fetch whose answer never begins fails with a 502 and an event instead of hanging the boot', async () => {
    const origin = await newOrigin();
    origin.set('/pub/kernel', randomBytes(1000), 'v1');
    origin.mode = 'hang';
    const server = await start('first-hang', origin, { fetchTimeoutMs: 300 });
    const started = Date.now();
    const response = await fetch(`${server.base}/upstream/kernel/file`);
    expect(response.status).toBe(502);
    await response.arrayBuffer();
    expect(Date.now() - started).toBeLessThan(5000);
    const [error] = ofKind(server.events, 'upstream.error');
    expect(error?.error).toMatch(/cannot reach .*\/pub\/kernel/);
  });

  it('a download that stalls mid-body is abandoned: the client is cut off, an event says why, the next request fetches afresh', async () => {
    const origin = await newOrigin();
    const body = randomBytes(3 * CHUNK);
    origin.set('/pub/initrd', body, 'v1');
    origin.hold = new Promise(() => undefined); // the origin sends its first chunk, then nothing
    const server = await start('stall', origin, { stallTimeoutMs: 300 });
    const response = await fetch(`${server.base}/upstream/initrd/file`);
    expect(response.status).toBe(200);
    await expect(response.arrayBuffer()).rejects.toThrow();
    await waitFor(() => ofKind(server.events, 'upstream.error').length === 1);
    expect(ofKind(server.events, 'upstream.error')[0]).toMatchObject({ bytes: CHUNK });
    expect(ofKind(server.events, 'upstream.error')[0]?.error).toMatch(/^origin sent nothing for/);
    expect(await dataFiles('stall')).toEqual([]);

    origin.hold = undefined;
    expect((await get(server, 'initrd')).equals(body)).toBe(true);
    expect(origin.requests).toHaveLength(2);
  });
});
