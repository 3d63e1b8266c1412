import { describe, expect, it } from 'vitest';
import { fit, formatBytes, formatDuration, formatElapsed, formatEta, formatRate, printable } from '../../../components/model/format.js';

describe('cell formatting', () => {
  it('sizes, rates, durations and ETAs read at a glance', () => {
    expect([0, 512, 1536, 12 * 1024 * 1024, 4.2 * 1024 ** 3].map(formatBytes)).toEqual(['0B', '512B', '1.5K', '12M', '4.2G']);
    expect(formatRate(1_250_000)).toBe('1.2M/s');
    expect([400, 12_300, 184_000, 754_000, 3_720_000].map(formatDuration)).toEqual(['0.4s', '12s', '3m04s', '12m34s', '1h02m']);
    expect([400, 12_300, 59_600, 60_000, 184_000, 3_599_000, 3_720_000].map(formatElapsed)).toEqual(['0.4s', '12s', '1m', '1m', '3m', '59m', '1h02m']);
    expect([3, 754, 3723, undefined, Number.POSITIVE_INFINITY].map(formatEta)).toEqual(['0:03', '12:34', '1:02:03', '--:--', '--:--']);
  });

  it('fits text to exactly the width, cutting with an ellipsis', () => {
    expect(fit('debian-installer', 8)).toBe('debian-…');
    expect(fit('lo', 5)).toBe('lo   ');
    expect(fit('42', 5, 'right')).toBe('   42');
    expect(fit('x', 0)).toBe('');
  });

  it('never lets control characters from the wire reach the terminal', () => {
    const hostile = 'PXEClient\u001b[2J\u0007evil';
    expect(printable(hostile)).not.toMatch(/[\u0000-\u001f]/);
    expect(fit(hostile, 30)).toHaveLength(30);
    // Wide characters would break the columns: they become "?".
    expect(printable('机器')).toBe('??');
    expect(printable('Ümlaut — ok › ●')).toBe('Ümlaut — ok › ●');
  });
});
