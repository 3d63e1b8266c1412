import { describe, expect, it } from 'vitest';
import { cacheLimitBytes, cacheLimitProblem } from '../../../src/servers/http/cache-limit.js';
import { validateSettings } from '../../../src/state/settings.js';

describe('upstream cache size cap setting', () => {
  it('defaults to 20 GiB and converts GiB to bytes', () => {
    expect(cacheLimitBytes()).toBe(20 * 2 ** 30);
    expect(cacheLimitBytes(0.5)).toBe(2 ** 29);
  });

  it.each([0.25, 1, 20, 512.5])('accepts %s GiB', (value) => {
    expect(cacheLimitProblem(value)).toBeUndefined();
    expect(validateSettings({ upstreamCacheGiB: value }, 'settings.json')).toEqual([]);
  });

  it.each([0, 0.1, -5, '20', Number.NaN, Number.POSITIVE_INFINITY, 2 ** 21, null])('refuses %s with the field and the fix', (value) => {
    expect(validateSettings({ upstreamCacheGiB: value }, 'settings.json')).toEqual([
      expect.stringMatching(/^settings\.json: field "upstreamCacheGiB" is .*; fix: use the upstream cache's size cap in GiB, a number from 0\.25 to/),
    ]);
  });
});
