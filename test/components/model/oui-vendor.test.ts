import { describe, expect, it } from 'vitest';
import { shortVendorName, vendorOf } from '../../../components/model/oui-vendor.js';
import { mac } from '../support/console-fixture.js';

describe('NIC vendor from the IEEE registries (oui-data)', () => {
  it('names registered prefixes, longest registration first', () => {
    expect(vendorOf(mac('00:1b:21:12:34:56'))).toBe('Intel Corporate');
    expect(vendorOf(mac('00:50:56:01:02:03'))).toBe('VMware');
    expect(vendorOf(mac('b8:27:eb:00:00:01'))).toBe('Raspberry Pi Foundation');
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
