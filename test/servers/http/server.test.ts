// The boot HTTP server over loopback with real clients (fetch, raw sockets): scripts, beacons, files, events.
import { randomBytes } from 'node:crypto';
import { open, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SocketOpenError } from '../../../src/servers/net/socket-open-error.js';
import type { Mac } from '../../../src/protocol/mac.js';
import { createHttpServer, type ScriptRequest } from '../../../src/servers/http/server.js';
import { ofKind, rawRequest, startServer, tempDir, waitFor, type RunningServer } from './fixtures.js';

const MAC = '52:54:00:12:34:56' as Mac;
const RANDOM = randomBytes(3 * 2 ** 20 + 5);

/** Sends several requests at once on one connection and splits the answers by Content-Length. */
function pipelined(port: number, targets: readonly string[]): Promise<Array<{ status: number; body: Buffer }>> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let buffered = Buffer.alloc(0);
    const responses: Array<{ status: number; body: Buffer }> = [];
    socket.setTimeout(10_000, () => socket.destroy(new Error('pipelined requests timed out')));
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        const split = buffered.indexOf('\r\n\r\n');
        if (split === -1) return;
        const head = buffered.subarray(0, split).toString('latin1');
        const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (buffered.length < split + 4 + length) return;
        responses.push({ status: Number(head.slice(9, 12)), body: buffered.subarray(split + 4, split + 4 + length) });
        buffered = buffered.subarray(split + 4 + length);
        if (responses.length === targets.length) {
          socket.end();
          resolve(responses);
          return;
        }
      }
    });
    socket.write(targets.map((target) => `GET ${target.split(' ')[0]} HTTP/1.1\r\nHost: x\r\n${target.includes(' ') ? `Range: ${target.split(' ')[1]}\r\n` : ''}\r\n`).join(''));
  });
}
let scratch: Awaited<ReturnType<typeof tempDir>>;
let root: string;
const running: RunningServer[] = [];

async function start(options: Parameters<typeof startServer>[0]): Promise<RunningServer> {
  const server = await startServer(options);
  running.push(server);
  return server;
}

beforeAll(async () => {
  scratch = await tempDir('server');
  root = join(scratch.dir, 'root');
  await import('node:fs/promises').then((fs) => fs.mkdir(root));
  await writeFile(join(root, 'vmlinuz'), Buffer.alloc(100_000, 7));
  await writeFile(join(root, 'random.bin'), RANDOM);
  await writeFile(join(root, 'ipxe.efi'), 'from-root');
  await writeFile(join(scratch.dir, 'snponly.efi'), 'named-efi');
  // 256 MiB, sparse: big enough that a throttled reader takes a while, free to create.
  const big = await open(join(root, 'big.img'), 'w');
  await big.truncate(256 * 2 ** 20);
  await big.close();
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()));
});

afterAll(async () => {
  await scratch?.remove();
});

describe('/boot.ipxe', () => {
  it('chains to /ipxe on the address the client used', async () => {
    const { base, server } = await start({ roots: [] });
    const response = await fetch(`${base}/boot.ipxe`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    expect(text.startsWith('#!ipxe\n')).toBe(true);
    expect(text).toContain(`set pxedeck-script http://127.0.0.1:${server.port}/ipxe?mac=\${netX/mac:hexhyp}&`);
  });

  it('keeps a plain Host header (a name the firmware was given) and ignores one that could inject script text', async () => {
    const { server } = await start({ roots: [] });
    const named = await rawRequest(server.port, `GET /boot.ipxe HTTP/1.1\r\nHost: boot.lab:${server.port}\r\nConnection: close\r\n\r\n`);
    expect(named.body.toString()).toContain(`http://boot.lab:${server.port}/ipxe?`);
    const hostile = await rawRequest(server.port, 'GET /boot.ipxe HTTP/1.1\r\nHost: x${shell}\r\nConnection: close\r\n\r\n');
    expect(hostile.body.toString()).toContain(`http://127.0.0.1:${server.port}/ipxe?`);
    expect(hostile.body.toString()).not.toContain('x${shell}');
  });

  it('listens on IPv4 and IPv6 together on one port, and brackets IPv6 in the script', async () => {
    const { server } = await start({ roots: [], bind: [{ address: '127.0.0.1', port: 0 }, { address: '::1', port: 0 }] });
    expect(server.addresses.map((bind) => bind.port)).toEqual([server.port, server.port]);
    const v6 = await rawRequest(server.port, 'GET /boot.ipxe HTTP/1.1\r\nConnection: close\r\n\r\n'.replace('\r\nConnection', `\r\nHost: [::1]:${server.port}\r\nConnection`), '::1');
    expect(v6.body.toString()).toContain(`http://[::1]:${server.port}/ipxe?`);
    // No Host at all (HTTP/1.0): the local end of the socket, bracketed.
    const bare = await rawRequest(server.port, 'GET /boot.ipxe HTTP/1.0\r\n\r\n', '::1');
    expect(bare.body.toString()).toContain(`http://[::1]:${server.port}/ipxe?`);
    const v4 = await fetch(`http://127.0.0.1:${server.port}/boot.ipxe`);
    expect(v4.status).toBe(200);
  });
});

describe('/ipxe', () => {
  it('hands the boot core what the machine sent and returns its script as text', async () => {
    const seen: ScriptRequest[] = [];
    const { base, events } = await start({
      roots: [],
      renderIpxeScript: async (request) => {
        seen.push(request);
        return { script: `#!ipxe\necho hello ${request.mac}\n` };
      },
    });
    const product = Buffer.from('Q35 & co').toString('hex');
    const response = await fetch(`${base}/ipxe?mac=52-54-00-12-34-56&uuid=8c3f1e2a-1111-4000-8000-000000000001&arch=x86_64&platform=efi&enc=hex&manufacturer=&product=${product}&serial=&hostname=`, {
      headers: { 'user-agent': 'iPXE/1.0.0+git-20190125.36a4c85-5.1' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.text()).toBe(`#!ipxe\necho hello ${MAC}\n`);
    expect(seen).toEqual([{ mac: MAC, ip: '127.0.0.1', uuid: '8c3f1e2a-1111-4000-8000-000000000001', arch: 'x86_64', buildarch: 'x86_64', platform: 'efi', product: 'Q35 & co' }]);
    await waitFor(() => ofKind(events, 'http.request').length > 0);
    expect(ofKind(events, 'http.request')[0]).toMatchObject({ path: '/ipxe', status: 200, route: 'script', mac: MAC, userAgent: expect.stringMatching(/^iPXE\//) });
  });

  it('answers 400 for a bad or unknown MAC without asking the boot core', async () => {
    let calls = 0;
    const { base, events } = await start({
      roots: [],
      renderIpxeScript: async () => {
        calls++;
        return { script: '#!ipxe\n' };
      },
    });
    const bad = await fetch(`${base}/ipxe?mac=not-a-mac`);
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/not a MAC/);
    const none = await fetch(`${base}/ipxe`);
    expect(none.status).toBe(400);
    expect(await none.text()).toMatch(/no mac=/);
    expect(calls).toBe(0);
    await waitFor(() => ofKind(events, 'http.request').length === 2);
    expect(ofKind(events, 'http.request').map((event) => event.status)).toEqual([400, 400]);
  });

  it('finds the MAC from the client address when the query lacks it', async () => {
    const seen: ScriptRequest[] = [];
    const { base } = await start({
      roots: [],
      macForIp: (ip) => (ip === '127.0.0.1' ? MAC : undefined),
      renderIpxeScript: async (request) => (seen.push(request), { script: '#!ipxe\n' }),
    });
    expect((await fetch(`${base}/ipxe`)).status).toBe(200);
    expect(seen[0]?.mac).toBe(MAC);
  });

  it('passes the boot core\'s own failure status through, and turns a throw into a 500', async () => {
    let mode: 'refuse' | 'throw' | 'odd' = 'refuse';
    const { base, events } = await start({
      roots: [],
      renderIpxeScript: async () => {
        if (mode === 'throw') throw new Error('profile file broken');
        return mode === 'refuse' ? { status: 404, message: 'no profile for this machine' } : { status: 200, message: 'not an error status' };
      },
    });
    const refused = await fetch(`${base}/ipxe?mac=${MAC}`);
    expect(refused.status).toBe(404);
    expect(await refused.text()).toBe('no profile for this machine\n');
    mode = 'throw';
    const thrown = await fetch(`${base}/ipxe?mac=${MAC}`);
    expect(thrown.status).toBe(500);
    expect(await thrown.text()).toMatch(/profile file broken/);
    mode = 'odd';
    expect((await fetch(`${base}/ipxe?mac=${MAC}`)).status).toBe(500);
    await waitFor(() => ofKind(events, 'http.request').length === 3);
    expect(ofKind(events, 'http.request')[1]?.reason).toMatch(/profile file broken/);
  });
});

describe('beacons', () => {
  it('from an address the network does not know, counts a beacon only for the machine whose script that address fetched', async () => {
    const beacons: string[] = [];
    const { base } = await start({ roots: [], onBeacon: (beacon, mac) => beacons.push(`${beacon} ${mac}`) });
    const other = '52:54:00:00:00:77';
    const cold = await fetch(`${base}/booted?mac=${MAC}`);
    expect(cold.status).toBe(403);
    expect(await cold.text()).toMatch(/127\.0\.0\.1 is not known as 52:54:00:12:34:56: no DHCP lease, no neighbour entry, and it fetched no script for it/);
    expect((await fetch(`${base}/ipxe?mac=${MAC}`)).status).toBe(200);
    expect((await fetch(`${base}/booted?mac=${other}`)).status).toBe(403);
    expect((await fetch(`${base}/booted?mac=${MAC}`)).status).toBe(200);
    expect(beacons).toEqual([`booted ${MAC}`]);
  });

  it('asks the neighbour table when the recorded address owner disagrees: a reused address speaks for its new machine', async () => {
    const beacons: string[] = [];
    const stale = '52:54:00:00:00:88' as Mac;
    let live: Mac | undefined = MAC;
    const { base, events } = await start({ roots: [], macForIp: () => stale, liveMacForIp: () => live, onBeacon: (beacon, mac) => beacons.push(`${beacon} ${mac}`) });
    expect((await fetch(`${base}/booted?mac=${MAC}`)).status).toBe(200);
    live = stale;
    const refused = await fetch(`${base}/booted?mac=${MAC}`);
    expect(refused.status).toBe(403);
    expect(await refused.text()).toBe(`asked as ${MAC}, but the network says 127.0.0.1 is ${stale}: a request speaks only for its own machine\n`);
    expect(beacons).toEqual([`booted ${MAC}`]);
    await waitFor(() => ofKind(events, 'http.request').length === 2);
    expect(ofKind(events, 'http.request').map((event) => event.mac)).toEqual([MAC, stale]);
  });

  it('reports booted and done to the boot core and as events, with an iPXE-friendly body', async () => {
    const beacons: string[] = [];
    const { base, events } = await start({ roots: [], onBeacon: (beacon, mac, ip) => beacons.push(`${beacon} ${mac} ${ip}`) });
    // Loopback is an address the network knows nothing of: the beacon counts for the machine whose script it fetched.
    expect((await fetch(`${base}/ipxe?mac=${MAC}`)).status).toBe(200);
    const booted = await fetch(`${base}/booted?mac=52:54:00:12:34:56`);
    expect(booted.status).toBe(200);
    expect((await booted.text()).startsWith('#!ipxe\n')).toBe(true);
    const done = await fetch(`${base}/done?mac=525400123456`, { method: 'POST' });
    expect(done.status).toBe(200);
    expect(beacons).toEqual([`booted ${MAC} 127.0.0.1`, `done ${MAC} 127.0.0.1`]);
    expect(ofKind(events, 'boot.beacon').map((event) => [event.beacon, event.mac])).toEqual([['booted', MAC], ['done', MAC]]);
  });

  it('uses the address → MAC lookup when the installer did not say, and refuses when nobody knows', async () => {
    const beacons: string[] = [];
    let known = true;
    const { base } = await start({ roots: [], macForIp: () => (known ? MAC : undefined), onBeacon: (beacon, mac) => beacons.push(`${beacon} ${mac}`) });
    expect((await fetch(`${base}/done`)).status).toBe(200);
    known = false;
    expect((await fetch(`${base}/done`)).status).toBe(400);
    expect((await fetch(`${base}/booted?mac=zz`)).status).toBe(400);
    expect(beacons).toEqual([`done ${MAC}`]);
  });
});

describe('files', () => {
  it('serves named files at the root before the roots, and nothing below a named file', async () => {
    const { base } = await start({
      roots: [{ prefix: '/', dir: root }],
      namedFiles: () => new Map([['snponly.efi', { root: scratch.dir, path: 'snponly.efi' }], ['ipxe.efi', { root: scratch.dir, path: 'snponly.efi' }]]),
    });
    const named = await fetch(`${base}/snponly.efi`);
    expect(named.status).toBe(200);
    expect(named.headers.get('content-type')).toBe('application/efi');
    expect(await named.text()).toBe('named-efi');
    expect(await (await fetch(`${base}/ipxe.efi`)).text()).toBe('named-efi');
    expect((await fetch(`${base}/snponly.efi/x`)).status).toBe(404);
    expect((await fetch(`${base}/vmlinuz`)).status).toBe(200);
  });

  it('answers HEAD with the headers only and conditional GETs with 304', async () => {
    const { base, events } = await start({ roots: [{ prefix: '/files', dir: root }] });
    const head = await fetch(`${base}/files/vmlinuz`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('100000');
    expect(head.headers.get('accept-ranges')).toBe('bytes');
    const etag = head.headers.get('etag')!;
    expect(etag).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/);
    const again = await fetch(`${base}/files/vmlinuz`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    const since = await fetch(`${base}/files/vmlinuz`, { headers: { 'if-modified-since': head.headers.get('last-modified')! } });
    expect(since.status).toBe(304);
    expect(ofKind(events, 'transfer.start')).toHaveLength(0);
  });

  it('reports a download as start and done, keyed by the MAC from the query or from the client address', async () => {
    let known: Mac | undefined;
    const { base, events } = await start({ roots: [{ prefix: '/files', dir: root }], macForIp: () => known });
    // The network knows nothing of the address: the query's MAC counts.
    expect((await (await fetch(`${base}/files/vmlinuz?mac=${MAC}`)).arrayBuffer()).byteLength).toBe(100_000);
    known = '52:54:00:00:00:99' as Mac;
    // It does now: its word wins over the query's (still served: files are not per machine).
    expect((await (await fetch(`${base}/files/vmlinuz?mac=${MAC}`)).arrayBuffer()).byteLength).toBe(100_000);
    await waitFor(() => ofKind(events, 'http.request').length === 2);
    const [first, second] = ofKind(events, 'transfer.done');
    expect(first).toMatchObject({ source: 'http', file: '/files/vmlinuz', mac: MAC, bytes: 100_000, size: 100_000, ip: '127.0.0.1' });
    expect(second).toMatchObject({ mac: '52:54:00:00:00:99', bytes: 100_000 });
    expect(ofKind(events, 'http.request').map((event) => event.mac)).toEqual([MAC, '52:54:00:00:00:99']);
    expect(ofKind(events, 'transfer.start').map((event) => event.mac)).toEqual([MAC, '52:54:00:00:00:99']);
    expect(ofKind(events, 'http.request').map((event) => event.bytes)).toEqual([100_000, 100_000]);
  });

  it('reports progress at most ~4 times a second, with bytes and rate, for a slow reader', async () => {
    const { base, events } = await start({ roots: [{ prefix: '/files', dir: root }] });
    const response = await fetch(`${base}/files/big.img?mac=${MAC}`);
    const reader = response.body!.getReader();
    const started = performance.now();
    let received = 0;
    // Read for ~1.6 s with pauses, so the socket (not the disk) sets the pace.
    while (performance.now() - started < 1600) {
      const { value, done } = await reader.read();
      if (done) break;
      received += value.byteLength;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const elapsed = performance.now() - started;
    await reader.cancel();
    const progress = ofKind(events, 'transfer.progress');
    expect(progress.length).toBeGreaterThanOrEqual(3);
    expect(progress.length).toBeLessThanOrEqual(Math.ceil(elapsed / 250) + 1);
    for (let i = 1; i < progress.length; i++) {
      expect(progress[i]!.time - progress[i - 1]!.time).toBeGreaterThanOrEqual(240);
      expect(progress[i]!.bytes).toBeGreaterThan(progress[i - 1]!.bytes);
    }
    expect(progress.every((event) => event.mac === MAC && (event.rate ?? 0) > 0 && event.size === 256 * 2 ** 20)).toBe(true);
    expect(received).toBeGreaterThan(0);
  });

  it('gives every one of several stalled readers its own bytes (the pieces sent through Node reuse their buffers)', async () => {
    const { base } = await start({ roots: [{ prefix: '/files', dir: root }] });
    // Slow readers fill their sockets, so pieces go through Node again and again, and their buffers are
    // lent from one spare list: a buffer given back too early would carry another response's bytes.
    const slowly = async (offset: number): Promise<Buffer> => {
      const response = await fetch(`${base}/files/random.bin`, { headers: { range: `bytes=${offset}-` } });
      const reader = response.body!.getReader();
      const chunks: Uint8Array[] = [];
      for (let i = 0; ; i++) {
        const { value, done } = await reader.read();
        if (done) break;
        chunks.push(value);
        if (i % 8 === 0) await new Promise((resolve) => setTimeout(resolve, 2));
      }
      return Buffer.concat(chunks);
    };
    const offsets = [0, 1, 65_537, 1_000_003];
    const bodies = await Promise.all(offsets.map(slowly));
    offsets.forEach((offset, i) => expect(bodies[i]!.equals(RANDOM.subarray(offset))).toBe(true));
  });

  it('reports a client that goes away mid-download as transfer.error with the bytes it got, and keeps serving', async () => {
    const { base, events } = await start({ roots: [{ prefix: '/files', dir: root }] });
    const controller = new AbortController();
    const response = await fetch(`${base}/files/big.img?mac=${MAC}`, { signal: controller.signal });
    const reader = response.body!.getReader();
    await reader.read();
    controller.abort();
    await waitFor(() => ofKind(events, 'transfer.error').length === 1);
    const error = ofKind(events, 'transfer.error')[0]!;
    expect(error).toMatchObject({ mac: MAC, file: '/files/big.img', error: 'client closed the connection' });
    expect(error.bytes).toBeGreaterThan(0);
    expect(error.bytes).toBeLessThan(256 * 2 ** 20);
    expect(ofKind(events, 'transfer.done')).toHaveLength(0);
    expect((await fetch(`${base}/files/vmlinuz`)).status).toBe(200);
  });

  for (const zeroCopy of [true, false]) {
    it(`keeps bytes in order across pipelined requests on one connection (${zeroCopy ? 'sendfile' : 'streamed'})`, async () => {
      const { server } = await start({ roots: [{ prefix: '/files', dir: root }], zeroCopy });
      const answers = await pipelined(server.port, ['/files/random.bin', '/files/random.bin bytes=1000000-2999999', '/files/vmlinuz', '/files/random.bin bytes=-70000']);
      expect(answers.map((answer) => answer.status)).toEqual([200, 206, 200, 206]);
      expect(answers[0]!.body.equals(RANDOM)).toBe(true);
      expect(answers[1]!.body.equals(RANDOM.subarray(1_000_000, 3_000_000))).toBe(true);
      expect(answers[2]!.body.equals(Buffer.alloc(100_000, 7))).toBe(true);
      expect(answers[3]!.body.equals(RANDOM.subarray(-70_000))).toBe(true);
    });
  }

  it('survives a namedFiles callback that throws: 500 and an event', async () => {
    const { base, events } = await start({
      roots: [],
      namedFiles: () => {
        throw new Error('catalog unreadable');
      },
    });
    expect((await fetch(`${base}/ipxe.efi`)).status).toBe(500);
    await waitFor(() => ofKind(events, 'http.request').length === 1);
    expect(ofKind(events, 'http.request')[0]?.reason).toMatch(/catalog unreadable/);
    expect((await fetch(`${base}/boot.ipxe`)).status).toBe(200);
  });
});

describe('lifecycle', () => {
  it('reports listening and closed, closes with a download in flight, and closes on abort', async () => {
    const controller = new AbortController();
    const events: Array<{ kind: string }> = [];
    const server = await createHttpServer({
      bind: { address: '127.0.0.1', port: 0 },
      emit: (event) => events.push(event),
      signal: controller.signal,
      renderIpxeScript: async () => ({ script: '#!ipxe\n' }),
      roots: [{ prefix: '/files', dir: root }],
    });
    expect(events[0]).toMatchObject({ kind: 'server.listening', address: `127.0.0.1:${server.port}` });
    const response = await fetch(`http://127.0.0.1:${server.port}/files/big.img`);
    const reader = response.body!.getReader();
    await reader.read();
    const started = performance.now();
    controller.abort();
    await server.close();
    expect(performance.now() - started).toBeLessThan(2000);
    await expect(reader.read().then(async function drain(result): Promise<unknown> { return result.done ? result : drain(await reader.read()); })).rejects.toThrow();
    await waitFor(() => events.some((event) => event.kind === 'server.closed'));
    await expect(fetch(`http://127.0.0.1:${server.port}/boot.ipxe`)).rejects.toThrow();
  });

  it('fails to start with a clear error when the port is taken', async () => {
    const { server } = await start({ roots: [] });
    const events: Array<{ kind: string; message?: string }> = [];
    const failed = await createHttpServer({ bind: { address: '127.0.0.1', port: server.port }, emit: (event) => events.push(event), renderIpxeScript: async () => ({ script: '' }), roots: [] }).then(
      () => undefined,
      (error: unknown) => error,
    );
    // An operator's error (printed as one line), naming the holder, here this very process, and the flag.
    expect(failed).toBeInstanceOf(SocketOpenError);
    expect(failed).toMatchObject({ code: 'EADDRINUSE', context: { protocol: 'tcp', port: server.port } });
    const message = (failed as SocketOpenError).message;
    expect(message).toMatch(new RegExp(`^Cannot listen on TCP 127\\.0\\.0\\.1:${server.port}: the port is already in use by node \\(pid ${process.pid}`));
    expect(message).toContain('--http-port');
    expect(events.at(-1)).toEqual(expect.objectContaining({ kind: 'server.error', message }));
  });
});
