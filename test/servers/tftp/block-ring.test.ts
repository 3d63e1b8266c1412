import { describe, expect, it } from 'vitest';
import { BlockRing } from '../../../src/servers/tftp/block-ring.js';
import { MemorySource } from '../../../src/servers/tftp/block-source.js';
import { DEFAULT_READAHEAD } from '../../../src/servers/tftp/server.js';

const events = { onLoaded: () => undefined, onReadFailed: () => undefined, isFinished: () => false };

describe('BlockRing with the server’s default readahead', () => {
  it('holds at most 64 KiB of a large file beyond the window (10 parallel transfers: ~0.7 MiB, not ~2.6)', () => {
    const blksize = 1468;
    const ring = new BlockRing(new MemorySource(Buffer.alloc(30_000_000)), blksize, 1, DEFAULT_READAHEAD, events);
    expect((ring.size - 1) * blksize).toBeLessThanOrEqual(64 * 1024 + blksize);
  });

  it('still holds a whole window and as much again for a windowed transfer', () => {
    const ring = new BlockRing(new MemorySource(Buffer.alloc(30_000_000)), 8192, 8, DEFAULT_READAHEAD, events);
    expect(ring.size).toBeGreaterThanOrEqual(16);
  });
});
