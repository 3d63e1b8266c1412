import { describe, expect, it } from 'vitest';
import { readClientFacts } from '../../src/boot/client-facts.js';
import { decideDhcpBoot, type ClientHistory, type ClientPolicy, type DhcpDecisionInput } from '../../src/boot/dhcp-decision.js';
import { buildRequest, type ClientProfile } from '../support/dhcp-client.js';

const ALL = new Set(['undionly.kpxe', 'undionly.kkpxe', 'ipxe.efi', 'snponly.efi', 'ipxe-arm64.efi', 'ipxe-i386.efi', 'pxelinux.0']);
const NOW = 1_000_000;

type Extra = Pick<DhcpDecisionInput, 'defaultUefiBootProgram' | 'signedChainOverHttp'>;

function decide(profile: ClientProfile, policy: ClientPolicy = {}, history: ClientHistory = {}, binaries = ALL, extra: Extra = {}) {
  const facts = readClientFacts(buildRequest({ type: 'DISCOVER', mac: '52:54:00:aa:bb:cc', profile }));
  return decideDhcpBoot({
    facts,
    policy,
    history,
    now: NOW,
    scriptUrl: 'http://10.0.0.1/boot.ipxe',
    httpUrl: (file) => `http://10.0.0.1/${file}`,
    binaries,
    ...extra,
  });
}

describe('the DHCP boot decision, in switch order', () => {
  it.each<[string, ClientProfile, ClientPolicy, ClientHistory, Record<string, unknown>]>([
    ['operator ignore wins over everything', 'ipxe-bios', { ignore: true }, {}, { action: 'ignore', reason: expect.stringMatching(/operator/) }],
    ['plain DHCP client is not a netboot client', 'plain', {}, {}, { action: 'ignore', reason: expect.stringMatching(/not a network-boot client/) }],
    ['iPXE (raw 77) → script', 'ipxe-bios', {}, {}, { action: 'boot', step: 'script', bootFile: 'http://10.0.0.1/boot.ipxe' }],
    ['iPXE (RFC 3004 77) → script', 'ipxe-rfc3004', {}, {}, { action: 'boot', step: 'script' }],
    ['iPXE (only 175) → script', 'ipxe-175-only', {}, {}, { action: 'boot', step: 'script' }],
    ['iPXE ROM to be replaced → undionly.kpxe', 'ipxe-bios', { replaceIpxe: true }, {}, { action: 'boot', step: 'nbp', bootFile: 'undionly.kpxe' }],
    [
      'replaced iPXE that just downloaded its binary → script (no loop)',
      'ipxe-bios',
      { replaceIpxe: true },
      { nbpDownloadedAt: NOW - 5_000, nbpFile: 'undionly.kpxe' },
      { action: 'boot', step: 'script', reason: expect.stringMatching(/no loop/) },
    ],
    [
      'a download long ago does not count',
      'ipxe-bios',
      { replaceIpxe: true },
      { nbpDownloadedAt: NOW - 600_000 },
      { action: 'boot', step: 'nbp' },
    ],
    ['iPXE ROM on a machine set to PXELINUX → pxelinux.0', 'ipxe-bios', { bootProgram: 'pxelinux' }, {}, { action: 'boot', step: 'nbp', bootFile: 'pxelinux.0' }],
    [
      'the iPXE PXELINUX chained (ipxe.lkrn just downloaded) → script',
      'ipxe-bios',
      { bootProgram: 'pxelinux' },
      { nbpDownloadedAt: NOW - 3_000, nbpFile: 'ipxe.lkrn' },
      { action: 'boot', step: 'script' },
    ],
    ['BIOS PXE set to PXELINUX → pxelinux.0', 'bios-pxe', { bootProgram: 'pxelinux' }, {}, { bootFile: 'pxelinux.0', transport: 'tftp' }],
    ['BIOS PXE arch 0 → undionly.kpxe over TFTP', 'bios-pxe', {}, {}, { bootFile: 'undionly.kpxe', transport: 'tftp', vendorClass: 'PXEClient' }],
    ['BIOS PXE set to undionly.kkpxe (keeps the PXE stack) → undionly.kkpxe', 'bios-pxe', { biosBinary: 'undionly.kkpxe' }, {}, { bootFile: 'undionly.kkpxe', transport: 'tftp' }],
    ['UEFI x64 arch 7 → ipxe.efi', 'uefi-pxe', {}, {}, { bootFile: 'ipxe.efi', transport: 'tftp' }],
    ['UEFI x64 with snponly selected', 'uefi-pxe', { efiBinary: 'snponly.efi' }, {}, { bootFile: 'snponly.efi' }],
    ['UEFI ARM64 arch 11 → ipxe-arm64.efi', 'arm64-pxe', {}, {}, { bootFile: 'ipxe-arm64.efi' }],
    ['HTTP boot arch 16 → http URL with HTTPClient', 'http-boot', {}, {}, { bootFile: 'http://10.0.0.1/ipxe.efi', transport: 'http', vendorClass: 'HTTPClient' }],
  ])('%s', (_name, profile, policy, history, expected) => {
    expect(decide(profile, policy, history)).toMatchObject(expected);
  });

  it('names the package when the binary is missing', () => {
    expect(decide('bios-pxe', {}, {}, new Set())).toEqual({
      action: 'ignore',
      reason: expect.stringMatching(/undionly\.kpxe is missing: install the Debian package ipxe/),
    });
  });

  it('an iPXE without HTTP support is chainloaded into ours', () => {
    const packet = buildRequest({ type: 'DISCOVER', mac: '52:54:00:aa:bb:cd', profile: 'ipxe-bios' });
    packet.options.set(175, Buffer.from([21, 1, 1])); // tftp only
    const decision = decideDhcpBoot({
      facts: readClientFacts(packet),
      policy: {},
      history: {},
      now: NOW,
      scriptUrl: 's',
      httpUrl: (file) => file,
      binaries: ALL,
    });
    expect(decision).toMatchObject({ action: 'boot', step: 'nbp', reason: expect.stringMatching(/no HTTP support/) });
  });
});

describe('the Secure Boot chain (shim → signed GRUB) for x64 UEFI', () => {
  const SIGNED = new Set([...ALL, 'shimx64.efi', 'grubx64.efi']);
  const signed = (profile: ClientProfile, policy: ClientPolicy, history: ClientHistory, extra: Extra = {}, binaries = SIGNED) => decide(profile, policy, history, binaries, extra);

  it.each<[string, ClientProfile, ClientPolicy, ClientHistory, Parameters<typeof signed>[3], Record<string, unknown>]>([
    ['default: UEFI PXE gets iPXE first', 'uefi-pxe', {}, {}, {}, { bootFile: 'ipxe.efi' }],
    ['machine set to the signed chain → shimx64.efi over TFTP', 'uefi-pxe', { uefiBootProgram: 'signed' }, {}, {}, { action: 'boot', step: 'nbp', bootFile: 'shimx64.efi', transport: 'tftp', vendorClass: 'PXEClient', reason: expect.stringMatching(/set to the Secure Boot chain/) }],
    ['Secure Boot refused ipxe.efi in this cycle → shimx64.efi (self-repair)', 'uefi-pxe', {}, { secureBootRefused: true }, {}, { bootFile: 'shimx64.efi', reason: expect.stringMatching(/Secure Boot refused ipxe\.efi/) }],
    ['remembered from an earlier refusal (clients.json)', 'uefi-pxe', { uefiBootProgram: 'signed', secureBootLearnedAt: 5 }, {}, {}, { bootFile: 'shimx64.efi', reason: expect.stringMatching(/refused ipxe\.efi on this machine before \(remembered/) }],
    ['the operator set iPXE: no self-repair over it', 'uefi-pxe', { uefiBootProgram: 'ipxe' }, { secureBootRefused: true }, {}, { bootFile: 'ipxe.efi' }],
    ['default set to the signed chain', 'uefi-pxe', {}, {}, { defaultUefiBootProgram: 'signed' }, { bootFile: 'shimx64.efi', reason: expect.stringMatching(/default/) }],
    ['machine set to iPXE beside a signed default', 'uefi-pxe', { uefiBootProgram: 'ipxe' }, {}, { defaultUefiBootProgram: 'signed' }, { bootFile: 'ipxe.efi' }],
    ['BIOS is never given shim', 'bios-pxe', { uefiBootProgram: 'signed' }, {}, { defaultUefiBootProgram: 'signed' }, { bootFile: 'undionly.kpxe' }],
    ['ARM64 is never given the x64 shim', 'arm64-pxe', { uefiBootProgram: 'signed' }, {}, {}, { bootFile: 'ipxe-arm64.efi' }],
    ['iPXE running on the machine keeps getting its script', 'ipxe-bios', { uefiBootProgram: 'signed' }, {}, {}, { step: 'script' }],
    [
      'HTTP Boot with a GRUB that cannot read HTTP: left to the PXE entries, with why',
      'http-boot',
      {},
      { secureBootRefused: true },
      {},
      { action: 'ignore', reason: expect.stringMatching(/cannot read its config \(no http module.*PXE boot entries/) },
    ],
    ['HTTP Boot with a GRUB that reads HTTP → shim URL', 'http-boot', { uefiBootProgram: 'signed' }, {}, { signedChainOverHttp: true }, { action: 'boot', bootFile: 'http://10.0.0.1/shimx64.efi', transport: 'http', vendorClass: 'HTTPClient' }],
  ])('%s', (_name, profile, policy, history, extra, expected) => {
    expect(signed(profile, policy, history, extra)).toMatchObject(expected);
  });

  it('names both packages when the signed binaries are missing', () => {
    expect(signed('uefi-pxe', { uefiBootProgram: 'signed' }, {}, {}, ALL)).toEqual({
      action: 'ignore',
      reason: expect.stringMatching(/shimx64\.efi is missing: install the Debian package shim-signed.*grubx64\.efi is missing: install the Debian package grub-efi-amd64-signed/),
    });
  });
});
