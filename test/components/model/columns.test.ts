import { describe, expect, it } from 'vitest';
import { progressCell, tableColumns } from '../../../components/model/columns.js';

describe('table columns', () => {
  it.each([80, 120, 200])('fill %i columns without reaching the last one', (width) => {
    const columns = tableColumns(width);
    const total = columns.reduce((sum, column) => sum + column.width, 0) + columns.length - 1;
    expect(total).toBeLessThanOrEqual(width - 1);
    expect(total).toBeGreaterThanOrEqual(Math.min(width - 2, 170));
    expect(columns.map((column) => column.id)).toEqual(expect.arrayContaining(['mac', 'stage', 'progress', 'target', 'status']));
  });

  it('adds vendor and IP from 110 columns, path and age from 180', () => {
    expect(tableColumns(80).map((column) => column.id)).not.toContain('vendor');
    expect(tableColumns(120).map((column) => column.id)).toEqual(expect.arrayContaining(['vendor', 'ip', 'firmware']));
    expect(tableColumns(200).map((column) => column.id)).toEqual(expect.arrayContaining(['path', 'seen']));
  });

  it('draws the progress bar first and drops figures when narrow', () => {
    const view = { file: 'vmlinuz', source: 'http' as const, bytes: 50, size: 100, fraction: 0.5, rate: 2_000_000, etaSeconds: 3, done: false };
    const wide = progressCell(view, 30);
    expect(wide.text).toHaveLength(30);
    expect(wide.text).toMatch(/^█+░+  50%  1\.9M\/s  0:03$/);
    const narrow = progressCell(view, 12);
    expect(narrow.text).toHaveLength(12);
    expect(narrow.text).toMatch(/^█{3,4}░{3,4}  50%$/);
    expect(progressCell(undefined, 10).text).toBe(' '.repeat(10));
  });
});
