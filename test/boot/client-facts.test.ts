import { describe, expect, it } from 'vitest';
import { describeFirmware, readClientFacts } from '../../src/boot/client-facts.js';
import { buildRequest } from '../support/dhcp-client.js';

describe('client facts', () => {
  it('reads a BIOS iPXE request as iPXE with its arch, UUID and 175 features', () => {
    const facts = readClientFacts(buildRequest({ type: 'DISCOVER', mac: '52:54:00:12:34:56', profile: 'ipxe-bios' }));
    expect(facts).toMatchObject({
      mac: '52:54:00:12:34:56',
      messageType: 'DISCOVER',
      arch: 0,
      isIpxe: true,
      firmware: 'ipxe',
      userClassForm: 'raw',
      uuid: '8d9b1c2a-3f4e-5d6c-7b8a-99aabbccddee',
      ipxe: { features: ['http', 'tftp'], version: '1.0.0' },
    });
    expect(describeFirmware(facts)).toBe('iPXE x86 BIOS');
  });

  it('tells UEFI PXE from BIOS PXE by option 93', () => {
    expect(readClientFacts(buildRequest({ type: 'DISCOVER', mac: '52:54:00:12:34:57', profile: 'uefi-pxe' })).firmware).toBe('uefi-pxe');
    expect(readClientFacts(buildRequest({ type: 'DISCOVER', mac: '52:54:00:12:34:58', profile: 'bios-pxe' })).firmware).toBe('bios-pxe');
  });

  it('falls back to the Arch field of option 60 when 93 is absent', () => {
    const packet = buildRequest({ type: 'DISCOVER', mac: '52:54:00:12:34:59', profile: 'uefi-pxe' });
    packet.options.delete(93);
    expect(readClientFacts(packet).arch).toBe(7);
  });
});
