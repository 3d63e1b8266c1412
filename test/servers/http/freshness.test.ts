import { describe, expect, it } from 'vitest';
import { freshUntil } from '../../../src/servers/http/freshness.js';

const NOW = Date.parse('2025-03-01T12:00:00Z');
const at = (headers: Record<string, string>, defaultMs = 3_600_000) => freshUntil(new Headers(headers), NOW, defaultMs) - NOW;

describe('freshness of an origin answer', () => {
  it.each([
    [{}, 3_600_000],
    [{ 'cache-control': 'public, max-age=600' }, 600_000],
    [{ 'cache-control': 'max-age=600, s-maxage=60' }, 60_000],
    [{ 'cache-control': 'max-age=600', age: '100' }, 500_000],
    [{ 'cache-control': 'max-age=0' }, 0],
    [{ 'cache-control': 'no-cache, max-age=600' }, 0],
    [{ 'cache-control': 'no-store' }, 0],
    [{ 'cache-control': 'max-age=600', expires: 'Sat, 01 Mar 2025 13:00:00 GMT' }, 600_000],
    [{ expires: 'Sat, 01 Mar 2025 13:00:00 GMT', date: 'Sat, 01 Mar 2025 12:00:00 GMT' }, 3_600_000],
    // Judged against the origin's clock: an origin 10 min behind still gives 1 h.
    [{ expires: 'Sat, 01 Mar 2025 12:50:00 GMT', date: 'Sat, 01 Mar 2025 11:50:00 GMT' }, 3_600_000],
    [{ expires: '0' }, 0],
    [{ 'cache-control': 'max-age=abc' }, 3_600_000],
  ])('%j → %i ms', (headers, expected) => {
    expect(at(headers)).toBe(expected);
  });

  it('uses the configured default when the origin says nothing', () => {
    expect(at({}, 5000)).toBe(5000);
  });
});
