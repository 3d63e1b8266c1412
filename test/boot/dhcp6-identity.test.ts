import { describe, expect, it } from 'vitest';
import { duidUuidOrder, macFromDuid, macFromLinkLocal, uuidFromDuid, uuidFromSmbiosBytes, uuidMatchKey } from '../../src/boot/dhcp6-identity.js';
import { decodeDuid } from '../../src/protocol/dhcp6/options.js';

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex');
// Captured from the same VM (-uuid 7de1c0de-0603-4a11-8b00-000000000603): ipxe.efi, then OVMF's PXE.
const ipxeDuid = decodeDuid(hex('0004 7de1c0de06034a118b00000000000603'));
const ovmfDuid = decodeDuid(hex('0004 dec0e17d0306114a8b00000000000603'));

describe('one machine across DHCPv6 stages', () => {
  it('normalises iPXE (RFC 4122 order) and OVMF (SMBIOS order) DUID-UUIDs to the same UUID', () => {
    expect(uuidFromDuid(ipxeDuid, duidUuidOrder({ isIpxe: true }))).toBe('7de1c0de-0603-4a11-8b00-000000000603');
    expect(uuidFromDuid(ovmfDuid, duidUuidOrder({ isIpxe: false }))).toBe('7de1c0de-0603-4a11-8b00-000000000603');
    expect(uuidFromSmbiosBytes(hex('dec0e17d0306114a8b00000000000603'))).toBe('7de1c0de-0603-4a11-8b00-000000000603');
  });

  it('gives both byte orders one match key, and different machines different keys', () => {
    expect(uuidMatchKey('7de1c0de-0603-4a11-8b00-000000000603')).toBe(uuidMatchKey('dec0e17d-0306-114a-8b00-000000000603'));
    expect(uuidMatchKey('7de1c0de-0603-4a11-8b00-000000000603')).not.toBe(uuidMatchKey('7de1c0de-0601-4a11-8b00-000000000601'));
  });

  it('has no UUID for other DUID types', () => {
    expect(uuidFromDuid(decodeDuid(hex('0003 0001 525400770603')), 'rfc4122')).toBeUndefined();
  });

  it('reads the MAC from DUID-LL/LLT over Ethernet only', () => {
    expect(macFromDuid(decodeDuid(hex('0003 0001 525400770603')))).toBe('52:54:00:77:06:03');
    expect(macFromDuid(decodeDuid(hex('0001 0001 00000001 525400770603')))).toBe('52:54:00:77:06:03');
    expect(macFromDuid(decodeDuid(hex('0003 0006 525400770603')))).toBeUndefined();
    expect(macFromDuid(ipxeDuid)).toBeUndefined();
  });

  it('reads the MAC back from an EUI-64 link-local, not from other addresses', () => {
    expect(macFromLinkLocal('fe80::5054:ff:fe77:603')).toBe('52:54:00:77:06:03');
    expect(macFromLinkLocal('fe80::5054:ff:fe77:603%eth0')).toBe('52:54:00:77:06:03');
    expect(macFromLinkLocal('fe80::1')).toBeUndefined();
    expect(macFromLinkLocal('fe80::a1b2:c3d4:e5f6:789')).toBeUndefined();
    expect(macFromLinkLocal('fd77::5054:ff:fe77:603')).toBeUndefined();
  });
});
