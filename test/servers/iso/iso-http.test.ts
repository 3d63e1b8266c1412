// ISOs served over HTTP by a real server on loopback: the image itself and files inside it, with Range,
// straight from the image's extents (no extraction), including a file past 4 GiB; stale and broken images.
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isoProfileId } from '../../../src/boot/iso/iso-profile.js';
import { createIsoCatalog, type IsoCatalog } from '../../../src/servers/iso/catalog.js';
import { underlyingRanges } from '../../../src/servers/http/slice-body.js';
import { startServer, tempDir, type RunningServer } from '../http/fixtures.js';
import { buildIso, LARGE_FILE_BYTES, LARGE_FILE_TAIL, largeFileIso, xorrisoMissing, type BuiltIso } from '../../support/iso-builder.js';
import { repoRoot } from '../../support/netns.js';

const skip = xorrisoMissing();
const KERNEL = Buffer.from(Array.from({ length: 300_000 }, (_, index) => (index * 31) % 251));

describe('underlying ranges of a file made of extents', () => {
  const pieces = [
    { offset: 1000, length: 100 },
    { offset: 1100, length: 50 },
    { offset: 5000, length: 10 },
  ];
  it.each([
    [0, 159, [{ offset: 1000, length: 150 }, { offset: 5000, length: 10 }]],
    [90, 109, [{ offset: 1090, length: 20 }]],
    [149, 150, [{ offset: 1149, length: 1 }, { offset: 5000, length: 1 }]],
    [155, 159, [{ offset: 5005, length: 5 }]],
  ])('bytes %i-%i', (start, end, expected) => {
    expect(underlyingRanges(pieces, start, end)).toEqual(expected);
  });
});

describe.skipIf(skip !== undefined)(`ISO files over HTTP${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let scratch: Awaited<ReturnType<typeof tempDir>>;
  let built: BuiltIso;
  let catalog: IsoCatalog;
  let http: RunningServer;
  let isoDir: string;
  let imageBytes: Buffer;
  const id = 'ubuntu-test-live-server-amd64';

  beforeAll(async () => {
    scratch = await tempDir('iso');
    isoDir = join(scratch.dir, 'isos');
    mkdirSync(isoDir);
    built = buildIso({
      '.disk/info': 'Ubuntu-Server 24.04.1 LTS "Noble Numbat" - Release amd64 (20240827.1)\n',
      'casper/vmlinuz': KERNEL,
      'casper/initrd': 'initrd bytes\n',
      'boot/grub/grub.cfg': 'menuentry "Try or Install Ubuntu Server" {\n  linux /casper/vmlinuz ---\n  initrd /casper/initrd\n}\n',
      'dir with space/file name.txt': 'spaced\n',
    });
    copyFileSync(built.path, join(isoDir, `${id}.iso`));
    imageBytes = readFileSync(join(isoDir, `${id}.iso`));
    writeFileSync(join(isoDir, 'broken.iso'), Buffer.alloc(40_000, 1));
    // A link out of the watched directory (a real ISO elsewhere) is not served; one inside it is.
    symlinkSync(built.path, join(isoDir, 'escaping-link.iso'));
    symlinkSync(`${id}.iso`, join(isoDir, 'inside-link.iso'));
    catalog = createIsoCatalog({ directories: [isoDir], files: [largeFileIso(join(repoRoot, '.cache'))], bootFiles: () => new Set(), idFor: isoProfileId });
    await catalog.refresh();
    http = await startServer({ roots: [], isoFiles: (rest) => catalog.resolve(rest) });
  }, 180_000);

  afterAll(async () => {
    await http?.close();
    await catalog?.close();
    built?.remove();
    await scratch?.remove();
  });

  it('recognises the casper image and says why the broken one cannot boot', () => {
    const entries = catalog.entries();
    const ubuntu = entries.find((entry) => entry.id === id)!;
    expect(ubuntu.recognition).toMatchObject({ ok: true, plan: { layout: 'ubuntu-casper', distribution: 'Ubuntu-Server', version: '24.04.1 LTS' } });
    const broken = entries.find((entry) => entry.id === 'broken')!;
    expect(broken.recognition).toMatchObject({ ok: false, reason: expect.stringMatching(/cannot be read as an ISO 9660 image: no ISO 9660 volume descriptor/) });
  });

  it('serves an ISO linked from inside the watched directory, never one a link leads out to', async () => {
    const escaping = catalog.entries().find((entry) => entry.id === 'escaping-link')!;
    expect(escaping.recognition).toMatchObject({ ok: false, reason: expect.stringMatching(/is a link out of .*isos \(to .*\): not served/) });
    expect((await fetch(`${http.base}/iso/escaping-link.iso`)).status).toBe(404);
    expect((await fetch(`${http.base}/iso/escaping-link/casper/initrd`)).status).toBe(404);
    const inside = await fetch(`${http.base}/iso/inside-link/casper/initrd`);
    expect(await inside.text()).toBe('initrd bytes\n');
  });

  it('serves the image itself, whole and by Range', async () => {
    const whole = await fetch(`${http.base}/iso/${id}.iso`);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    expect(Buffer.from(await whole.arrayBuffer()).equals(imageBytes)).toBe(true);
    const part = await fetch(`${http.base}/iso/${id}.iso`, { headers: { range: 'bytes=32768-34815' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 32768-34815/${imageBytes.length}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(imageBytes.subarray(32768, 34816))).toBe(true);
  });

  it('serves files inside the image by path, whole, by Range and HEAD; spaces and any case', async () => {
    const kernel = await fetch(`${http.base}/iso/${id}/casper/vmlinuz`);
    expect(kernel.status).toBe(200);
    expect(Buffer.from(await kernel.arrayBuffer()).equals(KERNEL)).toBe(true);
    const part = await fetch(`${http.base}/iso/${id}/casper/vmlinuz`, { headers: { range: 'bytes=1000-1999' } });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer()).equals(KERNEL.subarray(1000, 2000))).toBe(true);
    const head = await fetch(`${http.base}/iso/${id}/CASPER/VMLINUZ`, { method: 'HEAD' });
    expect(head.headers.get('content-length')).toBe(String(KERNEL.length));
    expect(await (await fetch(`${http.base}/iso/${id}/dir%20with%20space/file%20name.txt`)).text()).toBe('spaced\n');
    expect((await fetch(`${http.base}/iso/${id}/casper/missing`)).status).toBe(404);
    expect((await fetch(`${http.base}/iso/${id}/casper`)).status).toBe(404);
    expect((await fetch(`${http.base}/iso/no-such-iso/casper/vmlinuz`)).status).toBe(404);
    expect((await fetch(`${http.base}/iso/broken/x`)).status).toBe(404);
    const transfer = http.events.find((event) => event.kind === 'transfer.done' && event.file === `/iso/${id}/casper/vmlinuz`);
    expect(transfer).toMatchObject({ bytes: KERNEL.length });
  });

  it('a file past 4 GiB: its last bytes by Range, from its second extent', async () => {
    const largeId = 'large-4500m';
    const tail = await fetch(`${http.base}/iso/${largeId}/huge.img`, { headers: { range: `bytes=${LARGE_FILE_BYTES - LARGE_FILE_TAIL.length}-` } });
    expect(tail.status).toBe(206);
    expect(tail.headers.get('content-range')).toBe(`bytes ${LARGE_FILE_BYTES - LARGE_FILE_TAIL.length}-${LARGE_FILE_BYTES - 1}/${LARGE_FILE_BYTES}`);
    expect(await tail.text()).toBe(LARGE_FILE_TAIL);
    const across = await fetch(`${http.base}/iso/${largeId}/huge.img`, { headers: { range: `bytes=${2 ** 32 - 4096}-${2 ** 32 + 4095}` } });
    expect(across.status).toBe(206);
    expect((await across.arrayBuffer()).byteLength).toBe(8192);
  });

  it('an image changed on disk since it was read is refused until the catalog reads it again', async () => {
    const path = join(isoDir, `${id}.iso`);
    utimesSync(path, new Date(), new Date(Date.now() + 5000));
    const stale = await fetch(`${http.base}/iso/${id}/casper/initrd`);
    expect(stale.status).toBe(503);
    expect(await stale.text()).toMatch(/changed on disk/);
    await catalog.refresh();
    expect(await (await fetch(`${http.base}/iso/${id}/casper/initrd`)).text()).toBe('initrd bytes\n');
  });
});
