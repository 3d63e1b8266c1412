// Malformed images: each fails with an IsoFormatError (or a plain Error for a bad request) naming what is
// wrong, never a TypeError or RangeError from inside the parser, never a hang. Then a bounded fuzz run over
// mutated metadata of a real image.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { IsoFormatError } from '../../../src/protocol/iso9660/format.js';
import { IsoImage, type IsoEntry } from '../../../src/protocol/iso9660/image.js';
import { bufferReader, buildIso, xorrisoMissing, type BuiltIso } from '../../support/iso-builder.js';

const skip = xorrisoMissing();
const PVD = 32768;

const u32 = (bytes: Uint8Array, at: number) => Buffer.from(bytes.buffer, bytes.byteOffset).readUInt32LE(at);
const put32 = (bytes: Uint8Array, at: number, value: number): void => void Buffer.from(bytes.buffer, bytes.byteOffset).writeUInt32LE(value >>> 0, at);

/** The directory record called `identifier` (its ISO 9660 name, e.g. "AFTER.TXT;1") in the directory at `dirOffset`. */
function recordOffset(image: Uint8Array, dirOffset: number, identifier: string): number {
  const length = u32(image, dirOffset + 10);
  for (let at = dirOffset; at < dirOffset + length; ) {
    const size = image[at]!;
    if (size === 0) {
      at = (Math.floor((at - dirOffset) / 2048) + 1) * 2048 + dirOffset;
      continue;
    }
    const name = Buffer.from(image.subarray(at + 33, at + 33 + image[at + 32]!)).toString('latin1');
    if (name === identifier) return at;
    at += size;
  }
  throw new Error(`no record ${identifier}`);
}

async function openAndWalk(image: Uint8Array): Promise<number> {
  const iso = await IsoImage.open(bufferReader(image), image.length);
  let seen = 0;
  const walk = async (directory: IsoEntry, depth: number): Promise<void> => {
    for (const entry of await iso.list(directory)) {
      seen++;
      if (entry.kind === 'directory' && depth < 8) await walk(entry, depth + 1);
      else if (entry.kind === 'file' && entry.size < 65536) await iso.readFile(entry, 65536);
    }
  };
  await walk(iso.root, 0);
  await iso.lookup('dir/after.txt');
  return seen;
}

describe.skipIf(skip !== undefined)(`malformed ISO images${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let built: BuiltIso;
  let good: Uint8Array;
  let rootDir: number;
  beforeAll(() => {
    built = buildIso({ 'dir/after.txt': 'after\n', 'dir/two.txt': 'two\n', [`${'n'.repeat(180)}.cfg`]: 'long\n', 'a': { symlink: 'b' }, 'b': { symlink: 'a' } });
    good = new Uint8Array(readFileSync(built.path));
    rootDir = u32(good, PVD + 156 + 2) * 2048;
  });
  afterAll(() => built?.remove());

  const edit = (change: (image: Uint8Array) => Uint8Array | void): Uint8Array => {
    const copy = new Uint8Array(good);
    return change(copy) ?? copy;
  };

  const cases: ReadonlyArray<readonly [string, () => Uint8Array, RegExp]> = [
    ['an empty file', () => new Uint8Array(0), /0 bytes, too small for an ISO 9660 image/],
    ['a file cut inside the descriptors', () => good.subarray(0, PVD + 2048 + 100), /no terminator/],
    ['no CD001 where the first descriptor belongs', () => edit((image) => void image.set(Buffer.from('CD002'), PVD + 1)), /no ISO 9660 volume descriptor \(found "CD002"/],
    ['a logical block size of 1000', () => edit((image) => void Buffer.from(image.buffer).writeUInt16LE(1000, PVD + 128)), /logical block size 1000/],
    ['a root record of 33 bytes', () => edit((image) => void (image[PVD + 156] = 33)), /root directory record length is 33/],
    ['a root directory past the end', () => edit((image) => put32(image, PVD + 158, 0x7ffffff0)), /ends past the end of the \d+-byte image/],
    ['a directory record under 34 bytes', () => edit((image) => void (image[recordOffset(image, rootDir, 'DIR')] = 20)), /directory record length 20 is below the 34-byte minimum/],
    ['a directory over the size limit', () => edit((image) => put32(image, recordOffset(image, rootDir, 'DIR') + 10, 0x40000000)), /over the 33554432-byte limit/],
    [
      'a file whose extent ends past the end of the image',
      () => edit((image) => put32(image, recordOffset(image, u32(image, recordOffset(image, rootDir, 'DIR') + 2) * 2048, 'AFTER.TXT;1') + 2, 0x100000)),
      /cannot be read: it ends at byte \d+, past the end/,
    ],
    [
      'a multi-extent flag on a directory\'s last file',
      () => edit((image) => void (image[recordOffset(image, u32(image, recordOffset(image, rootDir, 'DIR') + 2) * 2048, 'TWO.TXT;1') + 25]! |= 0x80)),
      /multi-extent file "TWO.TXT;1" ends without its last extent/,
    ],
    [
      'a Rock Ridge entry of length 2',
      () =>
        edit((image) => {
          const record = recordOffset(image, rootDir, 'DIR');
          image[record + 33 + image[record + 32]! + (image[record + 32]! % 2 === 0 ? 1 : 0) + 2] = 2;
        }),
      /SUSP entry "\w\w" has length 2/,
    ],
    [
      'a Rock Ridge continuation area that points at itself',
      () => {
        const image = new Uint8Array(good.length + 2048);
        image.set(good);
        const block = good.length / 2048;
        const ce = (at: number) => {
          image.set(Buffer.from('CE'), at);
          image[at + 2] = 28;
          image[at + 3] = 1;
          put32(image, at + 4, block);
          put32(image, at + 12, 0);
          put32(image, at + 20, 28);
        };
        const record = recordOffset(image, rootDir, 'DIR');
        const systemUse = record + 33 + image[record + 32]! + (image[record + 32]! % 2 === 0 ? 1 : 0);
        ce(systemUse);
        image.set(Buffer.from([0x53, 0x54, 4, 1]), systemUse + 28);
        ce(good.length);
        return image;
      },
      /more than 16 Rock Ridge continuation areas/,
    ],
    [
      'a name with a slash in it',
      () =>
        edit((image) => {
          const at = Buffer.from(image.buffer).indexOf(Buffer.from('after.txt'), rootDir);
          image[at + 2] = 0x2f;
        }),
      /file name "af\/er.txt" is not usable/,
    ],
  ];

  it.each(cases)('%s', async (_name, make, message) => {
    const error = await openAndWalk(make()).then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(TypeError);
    expect(error).not.toBeInstanceOf(RangeError);
    expect((error as Error).message).toMatch(message);
  });

  it('symbolic links that point at each other end after 16 hops', async () => {
    const iso = await IsoImage.open(bufferReader(good), good.length);
    await expect(iso.lookup('a')).rejects.toThrow(/more than 16 symbolic links/);
    await expect(iso.lookup(Array(200).fill('dir').join('/'))).rejects.toThrow(/more than 128 components/);
  });

  it('the good image opens and walks', async () => {
    expect(await openAndWalk(good)).toBeGreaterThanOrEqual(4);
  });

  it('fuzz: 1500 images with up to 32 metadata bytes changed at random open and walk, or fail with a named error', async () => {
    let seed = 0x9e3779b9;
    const random = () => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 2 ** 32;
    };
    // Mutations land in the sectors that hold metadata (descriptors, directories, continuation areas).
    const hot = Array.from({ length: 40 }, (_, index) => PVD + index * 2048).filter((start) => good.subarray(start, start + 2048).some((byte) => byte !== 0));
    const outcomes = { opened: 0, formatErrors: 0, otherErrors: 0 };
    const started = Date.now();
    for (let round = 0; round < 1500; round++) {
      const image = new Uint8Array(good);
      const changes = 1 + Math.floor(random() * 32);
      for (let index = 0; index < changes; index++) image[hot[Math.floor(random() * hot.length)]! + Math.floor(random() * 2048)] = Math.floor(random() * 256);
      try {
        await openAndWalk(image);
        outcomes.opened++;
      } catch (error) {
        if (error instanceof TypeError || error instanceof RangeError || !(error instanceof Error)) throw new Error(`round ${round}: ${String(error)}`, { cause: error });
        if (error instanceof IsoFormatError) outcomes.formatErrors++;
        else outcomes.otherErrors++;
      }
    }
    expect(outcomes.opened + outcomes.formatErrors + outcomes.otherErrors).toBe(1500);
    expect(Date.now() - started).toBeLessThan(30_000);
  }, 60_000);
});
