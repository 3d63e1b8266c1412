import { describe, expect, it } from 'vitest';
import { macFromBytes, macToHexHyphen, macToPxelinuxName, parseMac, type Mac, macFromEui64 } from '../../src/protocol/mac.js';

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

describe('the MAC inside a SLAAC address (modified EUI-64)', () => {
  it.each([
    ['fd77::5054:77ff:fe3f:4501', '52:54:77:3f:45:01'],
    ['FE80::5054:77FF:FE3F:4501%ens2', '52:54:77:3f:45:01'],
    ['2001:db8:0:1:211:22ff:fe33:4455', '00:11:22:33:44:55'],
  ])('%s → %s', (address, mac) => {
    expect(macFromEui64(address)).toBe(mac);
  });

  it.each(['fd77::101', 'fd77::1', '10.77.0.100', 'fd77::5054:77ff:fe3f', 'fd77:::1', 'fd77::5054:77aa:fe3f:4501', 'not-an-address'])('%s holds no MAC', (address) => {
    expect(macFromEui64(address)).toBeNull();
  });
});

