// The ISO 9660 reader over images xorriso builds here: Rock Ridge, Joliet and plain names, deep and long
// paths, symbolic links, continuation areas, relocated directories, big directories.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IsoImage } from '../../../src/protocol/iso9660/image.js';
import { buildIso, fileReader, xorrisoMissing, type BuiltIso } from '../../support/iso-builder.js';

const skip = xorrisoMissing();

const deepDir = 'deep/a/b/c/d/e/f/g/h/i/j/k/a directory name well past thirty-one characters';
const longName = `${'n'.repeat(200)}.txt`;
const longLinkTarget = `${'x'.repeat(120)}/${'y'.repeat(120)}/target.txt`;

async function openIso(path: string) {
  const reader = await fileReader(path);
  return { iso: await IsoImage.open(reader.readAt, reader.size), close: reader.close };
}

async function text(iso: IsoImage, path: string): Promise<string | undefined> {
  const entry = await iso.lookup(path);
  return entry?.kind === 'file' ? Buffer.from(await iso.readFile(entry, 1 << 20)).toString('utf8') : undefined;
}

describe.skipIf(skip !== undefined)(`ISO 9660 reader${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const files = {
    '.disk/info': 'Ubuntu-Server 24.04.1 LTS "Noble Numbat" - Release amd64 (20240827.1)\n',
    'casper/vmlinuz': Buffer.alloc(70_000, 7),
    [`${deepDir}/Ünïcode Fïle.TXT`]: 'deep and unicode\n',
    [longName]: 'long name\n',
    'ubuntu': { symlink: '.' },
    'links/to-info': { symlink: '../.disk/info' },
    'links/long': { symlink: longLinkTarget },
    'MixedCase/ReadMe.Md': 'mixed\n',
    ...Object.fromEntries(Array.from({ length: 1500 }, (_, index) => [`pool/file-${String(index).padStart(4, '0')}.deb`, `package ${index}\n`])),
  };
  let rockRidge: BuiltIso;
  let jolietOnly: BuiltIso;
  let plain: BuiltIso;
  beforeAll(() => {
    rockRidge = buildIso(files);
    jolietOnly = buildIso({ 'Casper/VmLinuz': 'k', 'A Long Joliet Name With Spaces.txt': 'joliet\n', 'dir/sub/leaf.cfg': 'leaf\n' }, { flags: ['--norock', '-J', '-joliet-long'] });
    plain = buildIso({ 'casper/vmlinuz': 'kernel', 'isolinux/isolinux.cfg': 'default linux\n', 'README': 'plain\n' }, { flags: ['--norock'] });
  });
  afterAll(() => {
    for (const image of [rockRidge, jolietOnly, plain]) image?.remove();
  });

  it('Rock Ridge: names, a deep path, unicode, a 200-character name, the volume label', async () => {
    const { iso, close } = await openIso(rockRidge.path);
    try {
      expect(iso.namespace).toBe('rock-ridge');
      expect(iso.volume.volumeId).toBe('PXEDECK_TEST');
      expect(iso.isTruncated).toBe(false);
      expect(await text(iso, '.disk/info')).toContain('Noble Numbat');
      expect(await text(iso, `${deepDir}/Ünïcode Fïle.TXT`)).toBe('deep and unicode\n');
      expect(await text(iso, longName)).toBe('long name\n');
      const kernel = await iso.lookup('/casper/vmlinuz');
      expect(kernel).toMatchObject({ name: 'vmlinuz', kind: 'file', size: 70_000 });
      expect(kernel!.extents).toHaveLength(1);
      expect(Buffer.from(await iso.readFile(kernel!, 1 << 20)).equals(Buffer.alloc(70_000, 7))).toBe(true);
      expect(await iso.lookup('casper/missing')).toBeUndefined();
      expect(await iso.lookup('.disk/info/below-a-file')).toBeUndefined();
    } finally {
      await close();
    }
  });

  it('Rock Ridge symbolic links: relative, to "." (Ubuntu\'s ubuntu -> .), and a long target through a continuation area', async () => {
    const { iso, close } = await openIso(rockRidge.path);
    try {
      expect(await text(iso, 'links/to-info')).toContain('Noble');
      expect(await text(iso, 'ubuntu/ubuntu/casper/../.disk/info')).toContain('Noble');
      const long = (await iso.list((await iso.lookup('links'))!)).find((entry) => entry.name === 'long');
      expect(long).toMatchObject({ kind: 'symlink', symlink: longLinkTarget });
      expect(await iso.lookup('links/long')).toBeUndefined();
    } finally {
      await close();
    }
  });

  it('a directory of 1500 files spans many sectors; exact case first, any case second', async () => {
    const { iso, close } = await openIso(rockRidge.path);
    try {
      const pool = await iso.list((await iso.lookup('pool'))!);
      expect(pool).toHaveLength(1500);
      expect(new Set(pool.map((entry) => entry.name))).toEqual(new Set(Array.from({ length: 1500 }, (_, index) => `file-${String(index).padStart(4, '0')}.deb`)));
      expect(await text(iso, 'pool/file-0777.deb')).toBe('package 777\n');
      expect(await text(iso, 'mixedcase/readme.md')).toBe('mixed\n');
      expect((await iso.lookup('MixedCase/ReadMe.Md'))!.name).toBe('ReadMe.Md');
    } finally {
      await close();
    }
  });

  it('Joliet without Rock Ridge: Unicode names from the supplementary descriptor', async () => {
    const { iso, close } = await openIso(jolietOnly.path);
    try {
      expect(iso.namespace).toBe('joliet');
      expect((await iso.list(iso.root)).map((entry) => entry.name).sort()).toEqual(['A Long Joliet Name With Spaces.txt', 'Casper', 'dir']);
      expect(await text(iso, 'A Long Joliet Name With Spaces.txt')).toBe('joliet\n');
      expect(await text(iso, 'casper/vmlinuz')).toBe('k');
      expect(await text(iso, 'dir/sub/leaf.cfg')).toBe('leaf\n');
    } finally {
      await close();
    }
  });

  it('plain ISO 9660: upper-case identifiers without ";1", found in any case', async () => {
    const { iso, close } = await openIso(plain.path);
    try {
      expect(iso.namespace).toBe('iso9660');
      expect((await iso.list(iso.root)).map((entry) => entry.name).sort()).toEqual(['CASPER', 'ISOLINUX', 'README']);
      expect(await text(iso, 'casper/vmlinuz')).toBe('kernel');
      expect(await text(iso, 'isolinux/isolinux.cfg')).toBe('default linux\n');
    } finally {
      await close();
    }
  });

  it("Debian's memtest86+x64.iso: El Torito catalog, the EFI loader, the floppy image", async () => {
    const memtest = '/usr/lib/memtest86+/memtest86+x64.iso';
    const reader = await fileReader(memtest).catch(() => undefined);
    if (!reader) return;
    try {
      const iso = await IsoImage.open(reader.readAt, reader.size);
      expect(iso.bootCatalogBlock).toBeGreaterThan(16);
      expect((await iso.lookup('EFI/BOOT/BOOTX64.EFI'))?.kind).toBe('file');
      expect((await iso.lookup('boot/floppy.img'))?.size).toBe(1_474_560);
    } finally {
      await reader.close();
    }
  });
});
