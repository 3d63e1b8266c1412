import { describe, expect, it } from 'vitest';
import {
  decodeAddressList,
  decodeBootFileParams,
  decodeBootFileUrl,
  decodeDuid,
  decodeElapsedTime,
  decodeIaNa,
  decodeNii,
  decodeStatus,
  decodeUint16List,
  decodeUserClass,
  decodeVendorClass,
  duidHex,
  encodeAddressList,
  encodeBootFileParams,
  encodeBootFileUrl,
  encodeDuid,
  encodeIaAddress,
  encodeIaNa,
  encodeNii,
  encodeStatus,
  encodeUint16List,
  encodeUserClass,
  encodeVendorClass,
  iaAddresses,
  statusOf,
  type Duid,
} from '../../../src/protocol/dhcp6/options.js';
import { Dhcp6DecodeError, option } from '../../../src/protocol/dhcp6/wire.js';

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex');

describe('DUIDs (RFC 8415 §11, RFC 6355)', () => {
  // Layouts from RFC 8415 figures 3–5 and RFC 6355 §4, filled with lab values.
  const table: ReadonlyArray<readonly [string, string, Duid]> = [
    ['DUID-LLT', '0001 0001 2f3a4b5c 525400770601', { type: 'llt', hardwareType: 1, time: 0x2f3a4b5c, linkLayerAddress: hex('525400770601') }],
    ['DUID-EN', '0002 00000009 0c0001', { type: 'en', enterprise: 9, identifier: hex('0c0001') }],
    ['DUID-LL', '0003 0001 525400770601', { type: 'll', hardwareType: 1, linkLayerAddress: hex('525400770601') }],
    ['DUID-UUID', '0004 7de1c0de06014a118b00000000000601', { type: 'uuid', uuid: hex('7de1c0de06014a118b00000000000601') }],
    ['unknown type', '0009 abcd', { type: 'unknown', code: 9, data: hex('abcd') }],
  ];
  it.each(table)('%s decodes and re-encodes byte for byte', (_name, wire, duid) => {
    expect(decodeDuid(hex(wire))).toEqual(duid);
    expect(encodeDuid(duid).equals(hex(wire))).toBe(true);
    expect(duidHex(hex(wire))).toBe(wire.replace(/\s+/g, ''));
  });

  it('names the offset of a truncated DUID', () => {
    expect(() => decodeDuid(hex('0001 0001 2f3a'), 30)).toThrow(new Dhcp6DecodeError(30, 'DUID-LLT needs at least 8 bytes, has 6'));
    expect(() => decodeDuid(hex('00'), 4)).toThrow(/DUID of 1 byte\(s\) has no type \(at offset 4\)/);
  });
});

describe('IA_NA, IAADDR and status (RFC 8415 §21.4, §21.6, §21.13)', () => {
  it('reads an address and its nested status code', () => {
    const ia = decodeIaNa(
      encodeIaNa({
        iaid: 0xfc362932,
        t1: 300,
        t2: 525,
        options: [
          option(5, encodeIaAddress({ address: 'fd77::16a', preferredLifetime: 600, validLifetime: 600, options: [option(13, encodeStatus(0, 'ok'))] })),
          option(13, encodeStatus(2, 'no addresses')),
        ],
      }),
    );
    expect(ia).toMatchObject({ iaid: 0xfc362932, t1: 300, t2: 525 });
    const [address] = iaAddresses(ia);
    expect(address).toMatchObject({ address: 'fd77::16a', preferredLifetime: 600, validLifetime: 600 });
    expect(statusOf(address!.options)).toEqual({ code: 0, name: 'SUCCESS', message: 'ok' });
    expect(statusOf(ia.options)).toEqual({ code: 2, name: 'NO_ADDRS_AVAIL', message: 'no addresses' });
  });

  it('keeps status codes it has no name for', () => {
    expect(decodeStatus(hex('0063 6869'))).toEqual({ code: 99, message: 'hi' });
  });
});

describe('class and boot options', () => {
  it('user class 15 is a list of length-prefixed items (iPXE sends one: iPXE)', () => {
    expect(decodeUserClass(hex('0004 69505845'))).toEqual(['iPXE']);
    expect(encodeUserClass(['iPXE', 'x']).toString('hex')).toBe('000469505845' + '000178');
    expect(decodeUserClass(hex(''))).toEqual([]);
  });

  it('vendor class 16 carries the enterprise number and PXEClient string', () => {
    const wire = hex('00000157 0020 505845436c69656e743a417263683a30303030373a554e44493a303033303030');
    const vendor = decodeVendorClass(wire);
    expect(vendor).toEqual({ enterprise: 343, data: ['PXEClient:Arch:00007:UNDI:003000'] });
    expect(encodeVendorClass(vendor).equals(wire)).toBe(true);
  });

  it('ORO, elapsed time and client arch are 16-bit values', () => {
    expect(decodeUint16List(hex('0017 0018 003b 003c'))).toEqual([23, 24, 59, 60]);
    expect(encodeUint16List([0, 7]).toString('hex')).toBe('00000007');
    expect(decodeElapsedTime(hex('ffff'))).toBe(0xffff);
    expect(() => decodeUint16List(hex('00'), 12, 'client arch')).toThrow(/client arch has odd length 1.*offset 12/);
  });

  it('DNS servers are 16-byte addresses', () => {
    const wire = encodeAddressList(['fd77::1', '2001:db8::53']);
    expect(wire.length).toBe(32);
    expect(decodeAddressList(wire)).toEqual(['fd77::1', '2001:db8::53']);
  });

  it('boot file URL, parameters and NII (RFC 5970)', () => {
    expect(decodeBootFileUrl(encodeBootFileUrl('tftp://[fd77::1]/ipxe.efi'))).toBe('tftp://[fd77::1]/ipxe.efi');
    const params = encodeBootFileParams(['console=ttyS0', 'ip=dhcp6']);
    expect(params.subarray(0, 2).readUInt16BE(0)).toBe(13);
    expect(decodeBootFileParams(params)).toEqual(['console=ttyS0', 'ip=dhcp6']);
    expect(decodeNii(encodeNii({ type: 1, major: 3, minor: 10 }))).toEqual({ type: 1, major: 3, minor: 10 });
  });
});
