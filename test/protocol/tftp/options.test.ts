import { describe, expect, it } from 'vitest';
import { blksizeCapForMtu, DEFAULT_LIMITS, negotiateOptions, type NegotiationLimits } from '../../../src/protocol/tftp/options.js';
import type { TftpOption } from '../../../src/protocol/tftp/packet.js';

const opts = (...pairs: [string, string][]): TftpOption[] => pairs.map(([name, value]) => ({ name, value }));

describe('option negotiation', () => {
  it('no options: RFC 1350 defaults and no OACK', () => {
    expect(negotiateOptions([], 1000)).toEqual({ blksize: 512, windowsize: 1, oack: [], ignored: [] });
  });

  it('curl: tsize, blksize, timeout echoed in its order', () => {
    const result = negotiateOptions(opts(['tsize', '0'], ['blksize', '1468'], ['timeout', '6']), 30_000_000);
    expect(result.oack).toEqual(opts(['tsize', '30000000'], ['blksize', '1468'], ['timeout', '6']));
    expect(result).toMatchObject({ blksize: 1468, windowsize: 1, timeout: 6, tsize: 30_000_000 });
  });

  it('OVMF: blksize 1468 and windowsize 4 accepted as asked', () => {
    const result = negotiateOptions(opts(['blksize', '1468'], ['windowsize', '4']), 100);
    expect(result.oack).toEqual(opts(['blksize', '1468'], ['windowsize', '4']));
  });

  const blksizeCases: [string, string, number, boolean][] = [
    ['8 (the minimum)', '8', 8, true],
    ['512', '512', 512, true],
    ['1432 (iPXE)', '1432', 1432, true],
    ['1468 (the default cap)', '1468', 1468, true],
    ['8192 → capped to 1468', '8192', 1468, true],
    ['65464 (the maximum) → capped', '65464', 1468, true],
    ['7 (too small): ignored', '7', 512, false],
    ['65465 (too large): ignored', '65465', 512, false],
    ['0: ignored', '0', 512, false],
    ['-1: ignored', '-1', 512, false],
    ['1468 with a space: ignored', '1468 ', 512, false],
    ['0x5bc: ignored', '0x5bc', 512, false],
    ['empty: ignored', '', 512, false],
    ['99999999999 (11 digits): ignored', '99999999999', 512, false],
  ];
  it.each(blksizeCases)('blksize %s', (_name, value, blksize, acknowledged) => {
    const result = negotiateOptions(opts(['blksize', value]), 10);
    expect(result.blksize).toBe(blksize);
    expect(result.oack).toEqual(acknowledged ? opts(['blksize', String(blksize)]) : []);
    expect(result.ignored.length).toBe(acknowledged ? 0 : 1);
  });

  it('the per-client cap lowers blksize and the configured cap can be raised to 65464', () => {
    expect(negotiateOptions(opts(['blksize', '1468']), 1, { ...DEFAULT_LIMITS, blksizeCap: 1024 }).blksize).toBe(1024);
    expect(negotiateOptions(opts(['blksize', '65464']), 1, { ...DEFAULT_LIMITS, blksizeCap: 65464 }).blksize).toBe(65464);
    // A cap below the RFC minimum still answers with a legal size.
    expect(negotiateOptions(opts(['blksize', '1468']), 1, { ...DEFAULT_LIMITS, blksizeCap: 1 }).blksize).toBe(8);
  });

  it('the block a link carries whole: MTU minus IP, UDP and TFTP headers', () => {
    expect(blksizeCapForMtu(1500, 4)).toBe(1468);
    expect(blksizeCapForMtu(1500, 6)).toBe(1448);
    expect(blksizeCapForMtu(9000, 4)).toBe(8968);
    expect(blksizeCapForMtu(65536, 4)).toBe(65464);
    // Never below RFC 1350's 512, which every client takes.
    expect(blksizeCapForMtu(1280, 6)).toBe(1228);
    expect(blksizeCapForMtu(540, 4)).toBe(512);
  });

  it('tsize: answered with the size whatever number the client sent, ignored when not a number or unknown', () => {
    expect(negotiateOptions(opts(['tsize', '0']), 0).oack).toEqual(opts(['tsize', '0']));
    expect(negotiateOptions(opts(['tsize', '123']), 5_000_000_000).oack).toEqual(opts(['tsize', '5000000000']));
    const atftp = negotiateOptions(opts(['tsize', 'enable']), 10);
    expect(atftp.oack).toEqual([]);
    expect(atftp.ignored).toEqual([{ name: 'tsize', value: 'enable', reason: 'not a number' }]);
    expect(negotiateOptions(opts(['tsize', '0']), undefined).oack).toEqual([]);
  });

  it.each([
    ['1', true],
    ['6', true],
    ['255', true],
    ['0', false],
    ['256', false],
    ['1.5', false],
  ])('timeout %s', (value, acknowledged) => {
    const result = negotiateOptions(opts(['timeout', value]), 1);
    expect(result.oack).toEqual(acknowledged ? opts(['timeout', value]) : []);
    expect(result.timeout).toBe(acknowledged ? Number(value) : undefined);
  });

  const limits: NegotiationLimits = { blksizeCap: 65464, windowsizeCap: 64, windowBytesCap: 1024 * 1024 };
  it.each([
    ['1', 1468, 1],
    ['4', 1468, 4],
    ['64', 1468, 64],
    ['65535 → the cap', 1468, 64],
    ['64 at blksize 65464 → bounded by the bytes held', 65464, 16],
  ])('windowsize %s', (value, blksize, expected) => {
    const result = negotiateOptions(opts(['blksize', String(blksize)], ['windowsize', value.split(' ')[0]!]), 1, limits);
    expect(result.windowsize).toBe(expected);
    expect(result.oack).toContainEqual({ name: 'windowsize', value: String(expected) });
  });

  it.each(['0', '65536', 'disable', ''])('windowsize %j is ignored', (value) => {
    const result = negotiateOptions(opts(['windowsize', value]), 1);
    expect(result.windowsize).toBe(1);
    expect(result.oack).toEqual([]);
  });

  it('names are case-insensitive, a repeated option and unknown options are ignored', () => {
    const result = negotiateOptions(opts(['BlkSize', '1024'], ['blksize', '8'], ['multicast', ''], ['rollover', '0'], ['TSIZE', '0']), 42);
    expect(result.blksize).toBe(1024);
    expect(result.oack).toEqual(opts(['blksize', '1024'], ['tsize', '42']));
    expect(result.ignored.map((option) => `${option.name}:${option.reason}`)).toEqual([
      'blksize:repeated',
      'multicast:unsupported',
      'rollover:unsupported',
    ]);
  });
});
