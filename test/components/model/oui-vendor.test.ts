import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { shortVendorName, vendorOf } from '../../../components/model/oui-vendor.js';
import { mac } from '../support/console-fixture.js';

describe('NIC vendor from the IEEE registries (oui-data)', () => {
  it('names registered prefixes, longest registration first', () => {
    expect(vendorOf(mac('00:1b:21:12:34:56'))).toBe('Intel Corporate');
    expect(vendorOf(mac('00:50:56:01:02:03'))).toBe('VMware');
    expect(vendorOf(mac('b8:27:eb:00:00:01'))).toBe('Raspberry Pi Foundation');
  });

  it('finds every registration of the IEEE lists as a plain lookup of the most specific one would', () => {
    const raw = JSON.parse(readFileSync(createRequire(import.meta.url).resolve('oui-data'), 'utf8')) as Record<string, string>;
    const keys = Object.keys(raw);
    expect(keys.length).toBeGreaterThan(50_000);
    const expected = (hex: string) => {
      const organisation = raw[hex.slice(0, 9).toUpperCase()] ?? raw[hex.slice(0, 7).toUpperCase()] ?? raw[hex.slice(0, 6).toUpperCase()];
      return organisation === undefined ? undefined : shortVendorName(organisation);
    };
    let checked = 0;
    const wrong: string[] = [];
    for (const key of keys) {
      // The registration's first and last address: MA-S inside MA-M inside MA-L must give the most specific.
      for (const hex of [key.padEnd(12, '0'), key.padEnd(12, 'f')].map((text) => text.toLowerCase())) {
        const name = expected(hex);
        if (!name) continue;
        const found = vendorOf(mac(hex.replace(/(..)(?!$)/g, '$1:')));
        if (found !== name && wrong.length < 5) wrong.push(`${hex}: ${found}, not ${name}`);
        checked += 1;
      }
    }
    expect(wrong).toEqual([]);
    expect(checked).toBeGreaterThan(100_000);
  });

  it('names the conventions for locally administered MACs', () => {
    expect(vendorOf(mac('52:54:00:12:34:56'))).toBe('QEMU/KVM');
    expect(vendorOf(mac('02:11:22:33:44:55'))).toBe('local');
  });

  it('keeps the organisation, not its address or legal suffix', () => {
    expect(shortVendorName('Super Micro Computer, Inc.\n980 Rock Ave\nSan Jose CA 95131\nUS')).toBe('Super Micro Computer');
    expect(shortVendorName('Shenzhen Example Technology Co., Ltd.\nx')).toBe('Shenzhen Example');
  });
});
