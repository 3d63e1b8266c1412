import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Mac } from '../../src/protocol/mac.js';
import { askBootApi, parseBootApiAnswer } from '../../src/servers/boot-api-client.js';

const mac = '52:54:00:12:34:56' as Mac;
let server: Server;
let base: string;
const seen: string[] = [];

beforeAll(async () => {
  // A decision API in Pixiecore's shape, answering per MAC.
  server = createServer((request, response) => {
    seen.push(request.url ?? '');
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    if (path === `/v1/boot/${encodeURIComponent(mac)}`) {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ kernel: 'https://example.org/vmlinuz', initrd: ['https://example.org/initrd.img'], cmdline: { console: 'ttyS0', quiet: true } }));
    } else if (path.endsWith(encodeURIComponent('52:54:00:00:00:05'))) {
      response.statusCode = 500;
      response.end('boom');
    } else {
      response.statusCode = 404;
      response.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('external boot API (Pixiecore shape)', () => {
  it('turns an answer into an inline target and passes arch and uuid', async () => {
    expect(await askBootApi(base, { mac, arch: 'x86_64', uuid: '8d9b1c2a-3f4e-5d6c-7b8a-99aabbccddee' })).toEqual({
      kind: 'target',
      target: { kind: 'inline', kernel: 'https://example.org/vmlinuz', initrds: ['https://example.org/initrd.img'], cmdline: 'console=ttyS0 quiet' },
    });
    expect(seen.at(-1)).toBe('/v1/boot/52%3A54%3A00%3A12%3A34%3A56?arch=x86_64&uuid=8d9b1c2a-3f4e-5d6c-7b8a-99aabbccddee');
  });

  it('404 means no opinion; 500 and an unreachable API mean unavailable, with the reason', async () => {
    expect(await askBootApi(base, { mac: '52:54:00:00:00:04' as Mac })).toEqual({ kind: 'none' });
    expect(await askBootApi(base, { mac: '52:54:00:00:00:05' as Mac })).toMatchObject({ kind: 'unavailable', reason: expect.stringMatching(/answered 500/) });
    expect(await askBootApi('http://127.0.0.1:9', { mac }, 500)).toMatchObject({ kind: 'unavailable', reason: expect.stringMatching(/did not answer/) });
  });

  it.each([
    [{ 'ipxe-script': '#!ipxe\nexit\n' }, { kind: 'target', target: { kind: 'script', script: '#!ipxe\nexit\n' } }],
    [{ initrd: [] }, { kind: 'unavailable', reason: expect.stringMatching(/no "kernel"/) }],
    [{ kernel: 'ftp://x/y' }, { kind: 'unavailable', reason: expect.stringMatching(/no "kernel"/) }],
    [{ kernel: 'http://x/k', initrd: [3] }, { kind: 'unavailable', reason: expect.stringMatching(/"initrd"/) }],
    [{ kernel: 'http://x/k', cmdline: 7 }, { kind: 'unavailable', reason: expect.stringMatching(/"cmdline"/) }],
    ['text', { kind: 'unavailable', reason: expect.stringMatching(/not a JSON object/) }],
  ])('parses %j', (body, expected) => {
    expect(parseBootApiAnswer(body)).toEqual(expected);
  });
});
