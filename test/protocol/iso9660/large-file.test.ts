// A file past 4 GiB is stored as several extents (multi-extent records, ISO level 3): the reader joins them
// and the bytes at the end of the file are where its last extent says. The image is sparse and cached.
import { describe, expect, it } from 'vitest';
import { IsoImage } from '../../../src/protocol/iso9660/image.js';
import { fileReader, LARGE_FILE_BYTES, LARGE_FILE_TAIL, largeFileIso, xorrisoMissing } from '../../support/iso-builder.js';
import { repoRoot } from '../../support/netns.js';
import { join } from 'node:path';

const skip = xorrisoMissing();

describe.skipIf(skip !== undefined)(`a file past 4 GiB${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it('is one entry of several extents whose sizes add up, and its last bytes read back', async () => {
    const reader = await fileReader(largeFileIso(join(repoRoot, '.cache')));
    try {
      const iso = await IsoImage.open(reader.readAt, reader.size);
      const huge = await iso.lookup('huge.img');
      expect(huge).toMatchObject({ kind: 'file', size: LARGE_FILE_BYTES });
      expect(huge!.extents.length).toBeGreaterThan(1);
      expect(huge!.extents.reduce((sum, extent) => sum + extent.length, 0)).toBe(LARGE_FILE_BYTES);
      expect(huge!.extents[0]!.length).toBeLessThan(2 ** 32);
      const last = huge!.extents[huge!.extents.length - 1]!;
      const tail = await reader.readAt(last.offset + last.length - LARGE_FILE_TAIL.length, LARGE_FILE_TAIL.length);
      expect(Buffer.from(tail).toString()).toBe(LARGE_FILE_TAIL);
      expect(last.offset + last.length).toBeGreaterThan(2 ** 32);
      const after = await iso.lookup('after.txt');
      expect(Buffer.from(await iso.readFile(after!, 100)).toString()).toBe('after the huge file\n');
      await expect(iso.readFile(huge!, 1 << 20)).rejects.toThrow(/over the 1048576-byte limit/);
    } finally {
      await reader.close();
    }
  }, 180_000);
});
