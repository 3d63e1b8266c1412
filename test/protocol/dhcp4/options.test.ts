import { describe, expect, it } from 'vitest';
import {
  decodeEncapsulated,
  decodeIpxeOptions,
  decodePxeVendorOptions,
  decodeUserClass,
  decodeVendorClass,
  encodeEncapsulated,
  encodeIpxeNoPxeDhcp,
  encodePxeVendorOptions,
  encodeUserClass,
} from '../../../src/protocol/dhcp4/options.js';

describe('option values', () => {
  it('reads user class 77 as iPXE sends it (raw) and as RFC 3004 writes it', () => {
    expect(decodeUserClass(Buffer.from('iPXE'))).toEqual({ form: 'raw', classes: ['iPXE'] });
    expect(decodeUserClass(Buffer.from('\x04iPXE\x03foo', 'latin1'))).toEqual({ form: 'rfc3004', classes: ['iPXE', 'foo'] });
    // A length byte that overruns means the raw form, not an error.
    expect(decodeUserClass(Buffer.from('\x09iPXE', 'latin1'))).toEqual({ form: 'raw', classes: ['\tiPXE'] });
    for (const value of [{ form: 'raw', classes: ['iPXE'] }, { form: 'rfc3004', classes: ['iPXE', 'gpxe'] }] as const) {
      expect(decodeUserClass(encodeUserClass(value))).toEqual(value);
    }
  });

  it('parses option 60 vendor class strings', () => {
    expect(decodeVendorClass(Buffer.from('PXEClient:Arch:00007:UNDI:003010'))).toEqual({
      text: 'PXEClient:Arch:00007:UNDI:003010',
      family: 'PXEClient',
      arch: 7,
      undi: { major: 3, minor: 10 },
    });
    expect(decodeVendorClass(Buffer.from('HTTPClient:Arch:00016:UNDI:003001')).family).toBe('HTTPClient');
    expect(decodeVendorClass(Buffer.from('MSFT 5.0'))).toEqual({ text: 'MSFT 5.0' });
  });

  it('round-trips PXE vendor options (43: 6, 8, 9, 10, 71)', () => {
    const pxe = {
      discoveryControl: 3,
      bootServers: [{ type: 0x8000, addresses: ['10.0.0.1', '10.0.0.2'] }],
      bootMenu: [{ type: 0x8000, description: 'pxedeck' }, { type: 0, description: 'local disk' }],
      menuPrompt: { timeout: 5, prompt: 'Press F8' },
      bootItem: { type: 0x8000, layer: 0 },
    };
    expect(decodePxeVendorOptions(encodePxeVendorOptions(pxe))).toEqual(pxe);
  });

  it('writes 175.176 no-pxedhcp and reads iPXE feature flags back', () => {
    expect([...encodeIpxeNoPxeDhcp()]).toEqual([176, 1, 1]);
    expect(decodeIpxeOptions(Buffer.from([19, 1, 1, 21, 1, 1, 24, 1, 1, 177, 5, 1, 0x10, 0xec, 0, 0, 235, 3, 1, 0, 0, 176, 1, 1]))).toEqual({
      features: ['http', 'tftp', 'bzimage'],
      busId: '0110ec0000',
      version: '1.0.0',
      noPxeDhcp: true,
    });
  });

  it('refuses an encapsulated option that runs past its parent', () => {
    expect(() => decodeEncapsulated(Buffer.from([1, 5, 0]))).toThrow(/runs past the end/);
    expect(decodeEncapsulated(encodeEncapsulated(new Map([[8, Buffer.from([1])]])))).toEqual(new Map([[8, Buffer.from([1])]]));
  });
});
