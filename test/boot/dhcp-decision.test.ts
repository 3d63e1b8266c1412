import { describe, expect, it } from 'vitest';
import { readClientFacts } from '../../src/boot/client-facts.js';
import { decideDhcpBoot, type ClientHistory, type ClientPolicy } from '../../src/boot/dhcp-decision.js';
import { buildRequest, type ClientProfile } from '../support/dhcp-client.js';

const ALL = new Set(['undionly.kpxe', 'ipxe.efi', 'snponly.efi', 'ipxe-arm64.efi', 'ipxe-i386.efi', 'pxelinux.0']);
const NOW = 1_000_000;

function decide(profile: ClientProfile, policy: ClientPolicy = {}, history: ClientHistory = {}, binaries = ALL) {
  const facts = readClientFacts(buildRequest({ type: 'DISCOVER', mac: '52:54:00:aa:bb:cc', profile }));
  return decideDhcpBoot({
    facts,
    policy,
    history,
    now: NOW,
    scriptUrl: 'http://10.0.0.1/boot.ipxe',
    httpUrl: (file) => `http://10.0.0.1/${file}`,
    binaries,
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
