// A full collection on demand: what the DHCP warm-up's end asks for, so the first burst meets a heap limit
// sized for what stays, not for the start-up's heap with the warm-up's garbage on top.
import { getHeapSpaceStatistics } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { collectGarbageNow } from '../../src/runtime/collector-tuning.js';
import { isForcedFullCollection, observeCollections } from '../support/gc-entries.js';

const oldSpaceUsed = () => getHeapSpaceStatistics().find((space) => space.space_name === 'old_space')!.space_used_size;

describe('collectGarbageNow', () => {
  it('frees what died in the old generation at once, and leaves no `gc` for other code', async () => {
    // ~40 MB of objects kept through enough scavenges to be promoted, then dropped.
    let kept: Array<{ index: number; text: string }> | undefined = Array.from({ length: 400_000 }, (_, index) => ({ index, text: `record ${index}` }));
    for (let round = 0; round < 200; round += 1) Array.from({ length: 5_000 }, (_, index) => ({ index }));
    expect(kept.length).toBe(400_000);
    kept = undefined;
    const before = oldSpaceUsed();
    const observing = observeCollections();
    collectGarbageNow();
    const after = oldSpaceUsed();
    const collections = await observing.stop();
    expect(before - after).toBeGreaterThan(10 * 2 ** 20);
    expect(collections.some(isForcedFullCollection)).toBe(true);
    expect(runInNewContext('typeof gc')).toBe('undefined');
    expect(typeof (globalThis as { gc?: unknown }).gc).toBe('undefined');
  });
});
