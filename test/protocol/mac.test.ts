import { describe, expect, it } from 'vitest';
import { macFromBytes, macToHexHyphen, macToPxelinuxName, parseMac, type Mac } from '../../src/protocol/mac.js';

describe('MAC forms', () => {
  it.each([
    ['52:54:00:12:34:56', '52:54:00:12:34:56'],
    ['52-54-00-12-34-56', '52:54:00:12:34:56'],
    ['5254.0012.3456', '52:54:00:12:34:56'],
    ['525400123456', '52:54:00:12:34:56'],
    ['52:54:00:AB:CD:EF', '52:54:00:ab:cd:ef'],
    ['01-52-54-00-ab-cd-ef', '52:54:00:ab:cd:ef'],
  ])('parses %s', (input, expected) => {
    expect(parseMac(input)).toBe(expected);
  });

  it.each(['', '52:54:00:12:34', 'zz:54:00:12:34:56', '52:54:00:12:34:56:78'])('refuses %j', (input) => {
    expect(parseMac(input)).toBeNull();
  });

  it('converts through the canonical form', () => {
    const mac = macFromBytes(Buffer.from([0x52, 0x54, 0, 0xab, 0xcd, 0xef, 0, 0]));
    expect(mac).toBe('52:54:00:ab:cd:ef');
    expect(macToPxelinuxName(mac)).toBe('01-52-54-00-ab-cd-ef');
    expect(macToHexHyphen(mac as Mac)).toBe('52-54-00-ab-cd-ef');
  });
});
