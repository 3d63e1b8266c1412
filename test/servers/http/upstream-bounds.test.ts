// The upstream cache's bounds, against a real node:http origin on 127.0.0.1: the size cap holds while a
// body streams in (with or without Content-Length), one file may not exceed the per-file limit, and
// redirects are followed a bounded number of times, to http(s) only.
import { randomBytes } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { HttpServerOptions } from '../../../src/servers/http/server.js';
import { redirectProblem } from '../../../src/servers/http/origin-request.js';
import { curl, ofKind, startServer, tempDir, waitFor, type RunningServer } from './fixtures.js';

const MiB = 2 ** 20;
const CHUNK = 64 * 1024;

interface Route {
  readonly body?: Buffer;
  /** Without it the body goes out chunked: no Content-Length. */
  readonly withLength?: boolean;
  readonly redirect?: string;
}

let scratch: Awaited<ReturnType<typeof tempDir>>;
let origin: Server;
let base = '';
const routes = new Map<string, Route>();
const requests: string[] = [];
const running: RunningServer[] = [];

async function respond(req: IncomingMessage, res: ServerResponse): Promise<void> {
  requests.push(req.url ?? '');
  const route = routes.get(req.url ?? '');
  if (!route) return void res.writeHead(404).end('no');
  if (route.redirect !== undefined) return void res.writeHead(302, { location: route.redirect }).end();
  const body = route.body!;
  res.writeHead(200, { 'content-type': 'application/x-test', ...(route.withLength && { 'content-length': String(body.length) }) });
  for (let offset = 0; offset < body.length && !res.destroyed; offset += CHUNK) {
    if (!res.write(body.subarray(offset, offset + CHUNK))) await new Promise((resolve) => res.once('drain', resolve));
  }
  res.end();
}

beforeAll(async () => {
  scratch = await tempDir('bounds');
  origin = createServer((req, res) => void respond(req, res));
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()));
  routes.clear();
  requests.length = 0;
});

afterAll(async () => {
  origin?.closeAllConnections();
  await new Promise((resolve) => origin?.close(resolve));
  await scratch?.remove();
});

type Tuning = Omit<NonNullable<HttpServerOptions['upstream']>, 'cacheDir' | 'lookup'>;

async function start(cacheName: string, tuning: Tuning): Promise<RunningServer> {
  const server = await startServer({
    roots: [],
    upstream: { cacheDir: join(scratch.dir, cacheName), lookup: (id) => `${base}/pub/${id}`, ...tuning },
  });
  running.push(server);
  return server;
}

/** Bytes of every file in the cache directory (data, part and sidecar files). */
/**
 * The cache directory's bytes, from one consistent look: the names listed before and after the sizes are read
 * must be the same. Else a file stat'ed just before its eviction would be added to one that grew into its room
 * right after (a 4 MiB cap seen as 4.16 MiB on a loaded machine), which no moment on disk ever held.
 */
async function cacheBytes(cacheName: string): Promise<number> {
  const dir = join(scratch.dir, cacheName);
  const list = async () => (await readdir(dir).catch(() => [])).sort();
  for (let attempt = 0; ; attempt += 1) {
    const names = await list();
    let total = 0;
    for (const name of names) total += (await stat(join(dir, name)).catch(() => ({ size: 0 }))).size;
    const after = await list();
    if (attempt >= 100 || (after.length === names.length && after.every((name, index) => name === names[index]))) return total;
  }
}

/** Samples the cache directory's size every few ms while `work` runs; resolves with the largest seen. */
async function peakWhile(cacheName: string, work: Promise<unknown>): Promise<number> {
  let peak = 0;
  let done = false;
  void work.finally(() => (done = true));
  while (!done) {
    peak = Math.max(peak, await cacheBytes(cacheName));
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  await work;
  return Math.max(peak, await cacheBytes(cacheName));
}

describe('upstream cache size bounds', () => {
  it('a body without Content-Length stops at the per-file limit: the client is cut off and nothing stays on disk', async () => {
    routes.set('/pub/big', { body: randomBytes(6 * MiB) });
    const server = await start('per-file-chunked', { limitBytes: 64 * MiB, maxFileBytes: 2 * MiB });
    const download = curl(['-f', '-o', '/dev/null', `${server.base}/upstream/big/file`]);
    const peak = await peakWhile('per-file-chunked', download);
    expect((await download).code).not.toBe(0);
    expect(peak).toBeLessThanOrEqual(2 * MiB + 4096);
    await waitFor(() => ofKind(server.events, 'upstream.error').length === 1);
    expect(ofKind(server.events, 'upstream.error')[0]?.error).toMatch(/per-file limit of 2\.0 MiB/);
    expect(await cacheBytes('per-file-chunked')).toBe(0);
  });

  it('a Content-Length above the per-file limit is refused before a byte is written', async () => {
    routes.set('/pub/iso', { body: randomBytes(3 * MiB), withLength: true });
    const server = await start('per-file-length', { limitBytes: 64 * MiB, maxFileBytes: 2 * MiB });
    const response = await fetch(`${server.base}/upstream/iso/file`);
    expect(response.status).toBe(502);
    expect(await response.text()).toMatch(/3\.0 MiB, above the upstream cache's per-file limit of 2\.0 MiB/);
    expect(ofKind(server.events, 'upstream.error')).toHaveLength(1);
    expect(await cacheBytes('per-file-length')).toBe(0);
  });

  it('the per-file limit defaults to half the cap', async () => {
    routes.set('/pub/half', { body: randomBytes(3 * MiB), withLength: true });
    const server = await start('per-file-default', { limitBytes: 4 * MiB });
    const response = await fetch(`${server.base}/upstream/half/file`);
    expect(response.status).toBe(502);
    expect(await response.text()).toMatch(/per-file limit of 2\.0 MiB/);
  });

  it('a streaming body evicts least-recently-used files to stay under the cap as it grows', async () => {
    const small = randomBytes(MiB);
    routes.set('/pub/a', { body: small, withLength: true });
    routes.set('/pub/b', { body: small, withLength: true });
    const grown = randomBytes(3 * MiB);
    routes.set('/pub/grown', { body: grown });
    const server = await start('evict-while-streaming', { limitBytes: 4 * MiB, maxFileBytes: 4 * MiB });
    for (const id of ['a', 'b']) {
      expect((await curl(['-f', '-o', '/dev/null', `${server.base}/upstream/${id}/file`])).code).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await waitFor(() => ofKind(server.events, 'upstream.done').length === 2);
    const download = curl(['-f', `${server.base}/upstream/grown/file`]);
    const peak = await peakWhile('evict-while-streaming', download);
    expect((await download).stdout.equals(grown)).toBe(true);
    expect(peak).toBeLessThanOrEqual(4 * MiB + 4096);
    await waitFor(() => ofKind(server.events, 'upstream.done').length === 3);
    expect(ofKind(server.events, 'upstream.evicted').map((event) => event.url)).toEqual([`${base}/pub/a`]);
  });

  it('files being read are never evicted: a body that would need their room fails as "cache full", the cap holds', async () => {
    routes.set('/pub/held', { body: randomBytes(40 * MiB), withLength: true });
    routes.set('/pub/more', { body: randomBytes(30 * MiB) });
    const server = await start('full', { limitBytes: 64 * MiB, maxFileBytes: 64 * MiB });
    expect((await curl(['-f', '-o', '/dev/null', `${server.base}/upstream/held/file`])).code).toBe(0);
    await waitFor(() => ofKind(server.events, 'upstream.done').length === 1);
    // A reader that asks and then reads nothing: the server is still sending the held file throughout.
    const stalled = connect({ host: '127.0.0.1', port: server.server.port });
    stalled.pause();
    await new Promise<void>((resolve) => stalled.once('connect', resolve));
    stalled.write(`GET /upstream/held/file HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    try {
      await waitFor(() => ofKind(server.events, 'transfer.start').length === 2);
      const download = curl(['-f', '-o', '/dev/null', `${server.base}/upstream/more/file`]);
      const peak = await peakWhile('full', download);
      expect((await download).code).not.toBe(0);
      expect(peak).toBeLessThanOrEqual(64 * MiB + 4096);
      await waitFor(() => ofKind(server.events, 'upstream.error').length === 1);
      expect(ofKind(server.events, 'upstream.error')[0]?.error).toMatch(/^origin sent over 2[34]\.\d MiB: cache full: .*64\.0 MiB cap/);
      expect(ofKind(server.events, 'upstream.evicted')).toEqual([]);
      expect(await cacheBytes('full')).toBeLessThan(41 * MiB);
    } finally {
      stalled.destroy();
    }
  }, 30_000);
});

describe('upstream redirects', () => {
  it('follows a short chain of redirects on the origin', async () => {
    const body = randomBytes(100_000);
    routes.set('/pub/moved', { redirect: '/one' });
    routes.set('/one', { redirect: `${base}/two` });
    routes.set('/two', { body, withLength: true });
    const server = await start('redirects', {});
    const response = await fetch(`${server.base}/upstream/moved/file`);
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer()).equals(body)).toBe(true);
    expect(requests).toEqual(['/pub/moved', '/one', '/two']);
  });

  it('gives up after 5 redirects', async () => {
    routes.set('/pub/loop', { redirect: '/pub/loop' });
    const server = await start('redirect-loop', {});
    const response = await fetch(`${server.base}/upstream/loop/file`);
    expect(response.status).toBe(502);
    expect(await response.text()).toMatch(/more than 5 redirects/);
    expect(requests).toHaveLength(6);
  });

  it('refuses a redirect to anything but http(s)', async () => {
    routes.set('/pub/elsewhere', { redirect: 'file:///etc/passwd' });
    const server = await start('redirect-file', {});
    const response = await fetch(`${server.base}/upstream/elsewhere/file`);
    expect(response.status).toBe(502);
    expect(await response.text()).toMatch(/redirect to file:\/\/\/etc\/passwd refused: http and https only/);
    expect(ofKind(server.events, 'upstream.error')).toHaveLength(1);
  });

  it('the rule: http(s) only, never from https down to http, never from the network onto this machine', async () => {
    const problem = (from: string, to: string) => redirectProblem(new URL(from), new URL(to), []);
    expect(problem('http://mirror.example/a', 'https://cdn.example/b')).toBeUndefined();
    expect(problem('https://mirror.example/a', 'https://cdn.example/b')).toBeUndefined();
    expect(problem('http://mirror.example/a', 'http://10.1.2.3/b')).toBeUndefined();
    expect(problem('https://mirror.example/a', 'http://cdn.example/b')).toMatch(/from https down to http/);
    expect(problem('http://mirror.example/a', 'ftp://cdn.example/b')).toMatch(/http and https only/);
    for (const local of ['http://127.0.0.1/x', 'http://localhost:8080/x', 'http://[::1]/x', 'http://169.254.169.254/latest', 'http://0.0.0.0/x', 'http://[fe80::1]/x']) {
      expect(problem('http://mirror.example/a', local)).toMatch(/points at this machine/);
    }
    // An origin the operator put on this machine may redirect within it.
    expect(problem('http://127.0.0.1:8000/a', 'http://localhost:8001/b')).toBeUndefined();
    // A name is judged by what it resolves to.
    expect(redirectProblem(new URL('http://mirror.example/a'), new URL('http://sneaky.example/b'), ['127.0.0.2'])).toMatch(/points at this machine/);
  });
});
