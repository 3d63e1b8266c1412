import { describe, expect, it } from 'vitest';
import { decide, entityTag, lastModified, parseRange } from '../../../src/servers/http/conditional.js';

const file = { size: 1000, mtimeMs: Date.UTC(2026, 10, 25, 12, 0, 0, 345) };
const tag = entityTag(file);

describe('parseRange', () => {
  const cases = [
    ['bytes=0-99', { kind: 'single', start: 0, end: 99 }],
    ['bytes=900-', { kind: 'single', start: 900, end: 999 }],
    ['bytes=-100', { kind: 'single', start: 900, end: 999 }],
    ['bytes=-5000', { kind: 'single', start: 0, end: 999 }],
    ['bytes=990-2000', { kind: 'single', start: 990, end: 999 }],
    ['bytes = 5-5', { kind: 'single', start: 5, end: 5 }],
    ['BYTES=1-2', { kind: 'single', start: 1, end: 2 }],
    ['bytes=0-1,5-6', { kind: 'multiple' }],
    ['items=0-5', { kind: 'none' }],
    ['bytes=1000-', { kind: 'unsatisfiable' }],
    ['bytes=5-2', { kind: 'unsatisfiable' }],
    ['bytes=-0', { kind: 'unsatisfiable' }],
    ['bytes=abc', { kind: 'unsatisfiable' }],
    ['bytes=-', { kind: 'unsatisfiable' }],
    ['bytes=', { kind: 'unsatisfiable' }],
    ['bytes=99999999999999999999-', { kind: 'unsatisfiable' }],
  ] as const;
  for (const [header, expected] of cases) {
    it(`${header} → ${expected.kind}`, () => {
      expect(parseRange(header, file.size)).toMatchObject(expected);
    });
  }

  it('has nothing to offer from an empty file', () => {
    expect(parseRange('bytes=0-', 0).kind).toBe('unsatisfiable');
    expect(parseRange('bytes=-10', 0).kind).toBe('unsatisfiable');
  });

  it('handles offsets beyond 4 GiB exactly', () => {
    const size = 5 * 2 ** 30;
    expect(parseRange(`bytes=${2 ** 32 + 7}-`, size)).toEqual({ kind: 'single', start: 2 ** 32 + 7, end: size - 1 });
  });
});

describe('decide', () => {
  it('serves the whole file without conditions', () => {
    expect(decide({ method: 'GET' }, file)).toEqual({ status: 200, start: 0, end: 999 });
  });

  it('answers 304 to a matching If-None-Match, weak or strong, and to an old If-Modified-Since', () => {
    expect(decide({ method: 'GET', ifNoneMatch: tag }, file)).toEqual({ status: 304 });
    expect(decide({ method: 'HEAD', ifNoneMatch: `"x", W/${tag}` }, file)).toEqual({ status: 304 });
    expect(decide({ method: 'GET', ifModifiedSince: lastModified(file) }, file)).toEqual({ status: 304 });
    expect(decide({ method: 'GET', ifModifiedSince: new Date(file.mtimeMs - 60_000).toUTCString() }, file).status).toBe(200);
  });

  it('ignores If-Modified-Since when If-None-Match is present (RFC 9110 §13.2.2)', () => {
    expect(decide({ method: 'GET', ifNoneMatch: '"other"', ifModifiedSince: lastModified(file) }, file).status).toBe(200);
  });

  it('fails If-Match and If-Unmodified-Since preconditions with 412', () => {
    expect(decide({ method: 'GET', ifMatch: '"other"' }, file)).toEqual({ status: 412 });
    expect(decide({ method: 'GET', ifMatch: `W/${tag}` }, file)).toEqual({ status: 412 });
    expect(decide({ method: 'GET', ifMatch: tag, range: 'bytes=0-0' }, file)).toEqual({ status: 206, start: 0, end: 0 });
    expect(decide({ method: 'GET', ifUnmodifiedSince: new Date(file.mtimeMs - 60_000).toUTCString() }, file)).toEqual({ status: 412 });
  });

  it('applies a range only while If-Range still names this version', () => {
    expect(decide({ method: 'GET', range: 'bytes=10-', ifRange: tag }, file)).toEqual({ status: 206, start: 10, end: 999 });
    expect(decide({ method: 'GET', range: 'bytes=10-', ifRange: '"stale"' }, file)).toEqual({ status: 200, start: 0, end: 999 });
    expect(decide({ method: 'GET', range: 'bytes=10-', ifRange: lastModified(file) }, file).status).toBe(206);
    expect(decide({ method: 'GET', range: 'bytes=10-', ifRange: new Date(0).toUTCString() }, file).status).toBe(200);
    // A stale If-Range also overrides an unsatisfiable range: the client gets the new file whole.
    expect(decide({ method: 'GET', range: 'bytes=5000-', ifRange: '"stale"' }, file).status).toBe(200);
  });

  it('refuses an unsatisfiable range with its reason', () => {
    expect(decide({ method: 'GET', range: 'bytes=1000-' }, file)).toMatchObject({ status: 416 });
  });

  it('changes the entity tag when size or mtime changes', () => {
    expect(entityTag({ size: 1001, mtimeMs: file.mtimeMs })).not.toBe(tag);
    expect(entityTag({ size: 1000, mtimeMs: file.mtimeMs + 1 })).not.toBe(tag);
  });
});
