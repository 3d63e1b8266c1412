// curl against the boot server over loopback: ranges, resume (-C -), HEAD, validators, and a sparse 5 GiB
// file read past the 4 GiB mark. curl is in CI's package list; without it these tests cannot say anything.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { curl, ofKind, startServer, tempDir, waitFor, type RunningServer } from './fixtures.js';

const hasCurl = (() => {
  try {
    execFileSync('curl', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const GiB = 2 ** 30;
const HUGE_SIZE = 5 * GiB;
/** Marker blocks written into the sparse file: one straddling 4 GiB, one well past it, one at the very end. */
const markers = [
  { offset: 4 * GiB - 3000, bytes: randomBytes(6000) },
  { offset: 4 * GiB + 123_456_789, bytes: randomBytes(1 << 20) },
  { offset: HUGE_SIZE - 4096, bytes: randomBytes(4096) },
];

let scratch: Awaited<ReturnType<typeof tempDir>>;
let root: string;
let payload: Buffer;

beforeAll(async () => {
  if (!hasCurl) return;
  scratch = await tempDir('curl');
  root = join(scratch.dir, 'root');
  await mkdir(root);
  payload = randomBytes(3 * 2 ** 20 + 17);
  await writeFile(join(root, 'initrd.img'), payload);
  const huge = await open(join(root, 'huge.iso'), 'w');
  await huge.truncate(HUGE_SIZE);
  for (const marker of markers) await huge.write(marker.bytes, 0, marker.bytes.length, marker.offset);
  await huge.close();
});

afterAll(async () => {
  await scratch?.remove();
});

function headers(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split('\r\n')
      .filter((line) => line.includes(':'))
      .map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
  );
}

// Both body paths: sendfile(2) (the default on Linux) and buffered streaming (elsewhere, or zeroCopy off).
describe.skipIf(!hasCurl).each([
  ['sendfile', true],
  ['streamed', false],
] as const)('curl, %s bodies', (_name, zeroCopy) => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ roots: [{ prefix: '/files', dir: root }], zeroCopy });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('downloads a file whole, byte for byte', async () => {
    const result = await curl(['-f', `${server.base}/files/initrd.img`]);
    expect(result.code).toBe(0);
    expect(result.stdout.equals(payload)).toBe(true);
  });

  it('answers HEAD (-I) with length, validators and range support, and sends no body', async () => {
    const result = await curl(['-I', `${server.base}/files/initrd.img`]);
    expect(result.code).toBe(0);
    const head = headers(result.stdout.toString());
    expect(head['content-length']).toBe(String(payload.length));
    expect(head['accept-ranges']).toBe('bytes');
    expect(head['etag']).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/);
    expect(Date.parse(head['last-modified']!)).not.toBeNaN();
  });

  it('serves single ranges (-r) as 206 with Content-Range', async () => {
    for (const [range, start, end] of [
      ['0-99', 0, 99],
      ['1000000-1999999', 1_000_000, 1_999_999],
      [`${payload.length - 10}-`, payload.length - 10, payload.length - 1],
      ['-4096', payload.length - 4096, payload.length - 1],
    ] as const) {
      const result = await curl(['-f', '-r', range, '-D', '-', '-o', join(scratch.dir, 'range.out'), `${server.base}/files/initrd.img`]);
      expect(result.code, range).toBe(0);
      const head = headers(result.stdout.toString());
      expect(result.stdout.toString()).toMatch(/^HTTP\/1\.1 206/);
      expect(head['content-range']).toBe(`bytes ${start}-${end}/${payload.length}`);
      expect((await readFile(join(scratch.dir, 'range.out'))).equals(payload.subarray(start, end + 1))).toBe(true);
    }
  });

  it('refuses an unsatisfiable range with 416 and the size', async () => {
    const result = await curl(['-r', `${payload.length}-`, '-D', '-', '-o', '/dev/null', `${server.base}/files/initrd.img`]);
    expect(result.stdout.toString()).toMatch(/^HTTP\/1\.1 416/);
    expect(headers(result.stdout.toString())['content-range']).toBe(`bytes */${payload.length}`);
  });

  it('resumes a partial download with -C - to the exact file, and the server reports the offset', async () => {
    const partial = join(scratch.dir, 'resume.img');
    const cut = 1_234_567;
    await writeFile(partial, payload.subarray(0, cut));
    const before = ofKind(server.events, 'transfer.done').length;
    const result = await curl(['-f', '-C', '-', '-o', partial, `${server.base}/files/initrd.img?mac=52:54:00:00:00:01`]);
    expect(result.code).toBe(0);
    expect((await readFile(partial)).equals(payload)).toBe(true);
    await waitFor(() => ofKind(server.events, 'transfer.done').length > before);
    expect(ofKind(server.events, 'transfer.done').at(-1)).toMatchObject({ offset: cut, bytes: payload.length - cut, size: payload.length - cut, mac: '52:54:00:00:00:01' });
  });

  it('honours If-Range: a stale validator gets the whole file, the current one the range', async () => {
    const head = headers((await curl(['-I', `${server.base}/files/initrd.img`])).stdout.toString());
    const stale = await curl(['-r', '0-9', '-H', 'If-Range: "0-0"', '-D', '-', '-o', '/dev/null', `${server.base}/files/initrd.img`]);
    expect(stale.stdout.toString()).toMatch(/^HTTP\/1\.1 200/);
    const current = await curl(['-r', '0-9', '-H', `If-Range: ${head['etag']}`, '-D', '-', '-o', '/dev/null', `${server.base}/files/initrd.img`]);
    expect(current.stdout.toString()).toMatch(/^HTTP\/1\.1 206/);
    const byDate = await curl(['-r', '0-9', '-H', `If-Range: ${head['last-modified']}`, '-D', '-', '-o', '/dev/null', `${server.base}/files/initrd.img`]);
    expect(byDate.stdout.toString()).toMatch(/^HTTP\/1\.1 206/);
  });

  it('answers -z (If-Modified-Since) with 304 when the file has not changed', async () => {
    const result = await curl(['-z', 'Fri, 01 Jan 2100 00:00:00 GMT', '-D', '-', '-o', '/dev/null', `${server.base}/files/initrd.img`]);
    expect(result.stdout.toString()).toMatch(/^HTTP\/1\.1 304/);
  });

  describe('a sparse 5 GiB file', () => {
    it('reports its full size', async () => {
      const head = headers((await curl(['-I', `${server.base}/files/huge.iso`])).stdout.toString());
      expect(head['content-length']).toBe(String(HUGE_SIZE));
    });

    it('serves ranges past and across 4 GiB with the right bytes', async () => {
      for (const marker of markers) {
        const end = marker.offset + marker.bytes.length - 1;
        const result = await curl(['-f', '-r', `${marker.offset}-${end}`, '-D', join(scratch.dir, 'huge.head'), `${server.base}/files/huge.iso`]);
        expect(result.code).toBe(0);
        expect(result.stdout.equals(marker.bytes)).toBe(true);
        const head = headers(await readFile(join(scratch.dir, 'huge.head'), 'latin1'));
        expect(head['content-range']).toBe(`bytes ${marker.offset}-${end}/${HUGE_SIZE}`);
      }
      // A suffix range counts back from 5 GiB.
      const tail = await curl(['-f', '-r', '-4096', `${server.base}/files/huge.iso`]);
      expect(tail.stdout.equals(markers[2]!.bytes)).toBe(true);
    });

    it('resumes past 4 GiB: an open-ended range from there streams to the end', async () => {
      const from = HUGE_SIZE - 8 * 2 ** 20;
      const result = await curl(['-f', '-r', `${from}-`, `${server.base}/files/huge.iso`]);
      expect(result.code).toBe(0);
      expect(result.stdout.length).toBe(HUGE_SIZE - from);
      expect(result.stdout.subarray(-4096).equals(markers[2]!.bytes)).toBe(true);
    });
  });
});
