import { describe, expect, it } from 'vitest';
import { fromNetascii, toNetascii } from '../../../src/protocol/tftp/netascii.js';

describe('netascii', () => {
  it.each([
    ['', ''],
    ['abc', 'abc'],
    ['a\nb', 'a\r\nb'],
    ['a\r\nb', 'a\r\u0000\r\nb'],
    ['\r', '\r\u0000'],
    ['\n\n', '\r\n\r\n'],
  ])('%j ⇄ %j', (local, wire) => {
    expect(toNetascii(Buffer.from(local, 'latin1')).toString('latin1')).toBe(wire);
    expect(fromNetascii(Buffer.from(wire, 'latin1')).toString('latin1')).toBe(local);
  });

  it('converts chunk by chunk exactly as in one piece', () => {
    const text = Buffer.from('x\r\ny\rz\n\n\r'.repeat(50), 'latin1');
    const whole = toNetascii(text);
    const pieces = Buffer.concat([toNetascii(text.subarray(0, 7)), toNetascii(text.subarray(7, 200)), toNetascii(text.subarray(200))]);
    expect(pieces.equals(whole)).toBe(true);
  });
});
