import { describe, expect, it } from 'vitest';
import { decideDhcp6Boot, serverUrls, type Dhcp6DecisionInput } from '../../src/boot/dhcp6-decision.js';
import type { Dhcp6ClientFacts } from '../../src/boot/dhcp6-facts.js';

const base: Dhcp6ClientFacts = {
  messageType: 'SOLICIT',
  transactionId: 1,
  arches: [],
  userClasses: [],
  isIpxe: false,
  requestedOptions: [59],
  rapidCommit: false,
  iaNa: [],
  firmware: 'other',
};
const pxe = (arch: number, family: 'PXEClient' | 'HTTPClient' = 'PXEClient'): Dhcp6ClientFacts => ({
  ...base,
  arch,
  arches: [arch],
  vendorClass: { text: `${family}:Arch:${String(arch).padStart(5, '0')}:UNDI:003000`, family, arch },
  firmware: family === 'HTTPClient' ? 'uefi-http' : arch === 0 ? 'bios-pxe' : 'uefi-pxe',
});
const ipxe = (arch: number): Dhcp6ClientFacts => ({ ...pxe(arch), userClasses: ['iPXE'], isIpxe: true, firmware: 'ipxe' });

const all = new Set(['undionly.kpxe', 'ipxe.efi', 'snponly.efi', 'pxelinux.0', 'ipxe-arm64.efi']);
const input = (facts: Dhcp6ClientFacts, extra: Partial<Dhcp6DecisionInput> = {}): Dhcp6DecisionInput => ({
  facts,
  policy: {},
  history: {},
  now: 1_000_000,
  serverAddress: '2001:db8::1',
  binaries: all,
  ...extra,
});

// [case, facts, extra input, expected action/url/vendor]
const table: ReadonlyArray<readonly [string, Dhcp6ClientFacts, Partial<Dhcp6DecisionInput>, Record<string, unknown>]> = [
  ['iPXE BIOS gets the script', ipxe(0), {}, { action: 'boot', step: 'script', bootFileUrl: 'http://[2001:db8::1]/boot.ipxe' }],
  ['iPXE EFI gets the script', ipxe(7), {}, { action: 'boot', step: 'script', bootFileUrl: 'http://[2001:db8::1]/boot.ipxe' }],
  ['arch 0 PXE gets undionly.kpxe over TFTP', pxe(0), {}, { action: 'boot', step: 'nbp', bootFileUrl: 'tftp://[2001:db8::1]/undionly.kpxe', vendorClass: 'PXEClient' }],
  ['arch 7 gets ipxe.efi over TFTP', pxe(7), {}, { bootFileUrl: 'tftp://[2001:db8::1]/ipxe.efi', transport: 'tftp' }],
  ['arch 9 gets ipxe.efi over TFTP', pxe(9), {}, { bootFileUrl: 'tftp://[2001:db8::1]/ipxe.efi' }],
  ['arch 11 gets the arm64 build', pxe(11), {}, { bootFileUrl: 'tftp://[2001:db8::1]/ipxe-arm64.efi' }],
  ['arch 16 HTTP boot gets ipxe.efi over HTTP', pxe(16, 'HTTPClient'), {}, { bootFileUrl: 'http://[2001:db8::1]/ipxe.efi', transport: 'http', vendorClass: 'HTTPClient' }],
  ['HTTP port other than 80 is in the URL', pxe(16, 'HTTPClient'), { httpPort: 8080 }, { bootFileUrl: 'http://[2001:db8::1]:8080/ipxe.efi' }],
  ['operator efi binary choice holds', pxe(7), { policy: { efiBinary: 'snponly.efi' } }, { bootFileUrl: 'tftp://[2001:db8::1]/snponly.efi' }],
  ['PXELINUX has no IPv6: BIOS still gets iPXE', pxe(0), { policy: { bootProgram: 'pxelinux' } }, { bootFileUrl: 'tftp://[2001:db8::1]/undionly.kpxe' }],
  ['replaceIpxe chainloads iPXE once', ipxe(7), { policy: { replaceIpxe: true } }, { step: 'nbp', bootFileUrl: 'tftp://[2001:db8::1]/ipxe.efi' }],
  [
    'replaceIpxe right after the download gets the script (no loop)',
    ipxe(7),
    { policy: { replaceIpxe: true }, history: { nbpDownloadedAt: 999_000, nbpFile: 'ipxe.efi' } },
    { step: 'script' },
  ],
  ['a diagnosed loop gets the script', ipxe(0), { policy: { replaceIpxe: true }, history: { looping: true } }, { step: 'script' }],
  ['ignored machine', ipxe(0), { policy: { ignore: true } }, { action: 'ignore', reason: expect.stringMatching(/operator/) }],
  ['not a boot client (OVMF IPv6 stack)', base, {}, { action: 'ignore', reason: expect.stringMatching(/not a network-boot client/) }],
  ['unknown arch', pxe(42), {}, { action: 'ignore', reason: expect.stringMatching(/arch 42/) }],
  ['missing binary', pxe(7), { binaries: new Set() }, { action: 'ignore', reason: expect.stringMatching(/ipxe.efi is missing/) }],
  ['explicit script URL wins', ipxe(0), { scriptUrl: 'http://[2001:db8::1]/ipxe?mac=x' }, { bootFileUrl: 'http://[2001:db8::1]/ipxe?mac=x' }],
];

describe('DHCPv6 boot decision', () => {
  it.each(table)('%s', (_name, facts, extra, expected) => {
    expect(decideDhcp6Boot(input(facts, extra))).toMatchObject(expected);
  });

  it('brackets IPv6 literals and leaves IPv4 alone', () => {
    expect(serverUrls('fd77::1', 8080).tftp('/ipxe.efi')).toBe('tftp://[fd77::1]/ipxe.efi');
    expect(serverUrls('10.77.0.1').script).toBe('http://10.77.0.1/boot.ipxe');
  });
});
