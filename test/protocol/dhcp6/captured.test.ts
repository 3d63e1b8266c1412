// The DHCPv6 codec and boot facts against packets captured from real firmware (test/fixtures/dhcp6/README.md).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readDhcp6ClientFacts } from '../../../src/boot/dhcp6-facts.js';
import { decideDhcp6Boot } from '../../../src/boot/dhcp6-decision.js';
import { uuidMatchKey } from '../../../src/boot/dhcp6-identity.js';
import { Option } from '../../../src/protocol/dhcp6/constants.js';
import { decodeBootFileUrl, decodeIaNa, iaAddresses, statusOf } from '../../../src/protocol/dhcp6/options.js';
import { decode, encode, encodingLength, findOption, type Dhcp6ClientServerMessage } from '../../../src/protocol/dhcp6/packet.js';

interface Fixture {
  readonly file: string;
  readonly scenario: string;
  readonly stage: string;
  readonly direction: 'client-to-server' | 'server-to-client';
  readonly messageType: string;
  readonly transactionId: string;
  readonly length: number;
  readonly udp: { readonly src: string; readonly dst: string };
  readonly vmMac: string;
  readonly vmUuid: string;
  readonly options: ReadonlyArray<{ code: number; hex: string }>;
}

const dir = resolve(import.meta.dirname, '../../fixtures/dhcp6');
const manifest = JSON.parse(readFileSync(resolve(dir, 'manifest.json'), 'utf8')) as { fixtures: Fixture[] };
const bytesOf = (fixture: Fixture) => Buffer.from(readFileSync(resolve(dir, fixture.file), 'utf8').replace(/\s+/g, ''), 'hex');
const messageOf = (fixture: Fixture) => decode(bytesOf(fixture)) as Dhcp6ClientServerMessage;
const find = (stage: string, type: string, direction: Fixture['direction'] = 'client-to-server') =>
  manifest.fixtures.find((f) => f.stage === stage && f.messageType === type && f.direction === direction)!;
const peerOf = (fixture: Fixture) => fixture.udp.src.replace(/^\[(.*)\]:\d+$/, '$1');

describe('captured DHCPv6 packets', () => {
  it('cover iPXE (BIOS ROM, EFI ROM, ipxe.efi) and OVMF (IPv6 stack and PXE base code)', () => {
    expect(new Set(manifest.fixtures.map((f) => f.stage))).toEqual(
      new Set(['bios-ipxe-rom', 'uefi-ipxe-rom', 'uefi-ipxe-efi', 'uefi-ovmf-ip6config', 'uefi-ovmf-pxe']),
    );
  });

  it.each(manifest.fixtures.map((f) => [f.file, f] as const))('%s decodes to what was captured and re-encodes identically', (_name, fixture) => {
    const bytes = bytesOf(fixture);
    expect(bytes.length).toBe(fixture.length);
    const message = decode(bytes);
    expect(message.kind).toBe('message');
    expect(encodingLength(message)).toBe(bytes.length);
    expect(encode(message).equals(bytes)).toBe(true);
    expect(encode(decode(encode(message))).equals(bytes)).toBe(true);
    if (message.kind === 'message') expect(message.transactionId.toString(16).padStart(6, '0')).toBe(fixture.transactionId);
    expect(message.options.map((o) => ({ code: o.code, hex: o.data.toString('hex') }))).toEqual(fixture.options.map(({ code, hex }) => ({ code, hex })));
  });

  it('iPXE sends user class iPXE, vendor class 343 with the PXEClient string, arch, NII and a UUID DUID in RFC 4122 order', () => {
    const bios = readDhcp6ClientFacts(messageOf(find('bios-ipxe-rom', 'solicit')));
    expect(bios).toMatchObject({
      messageType: 'SOLICIT',
      isIpxe: true,
      userClasses: ['iPXE'],
      enterprise: 343,
      vendorClass: { text: 'PXEClient:Arch:00000:UNDI:002001', family: 'PXEClient', arch: 0 },
      arch: 0,
      nii: { type: 1, major: 2, minor: 1 },
      requestedOptions: [23, 24, 59, 60],
      firmware: 'ipxe',
      uuid: find('bios-ipxe-rom', 'solicit').vmUuid,
      duid: { type: 'uuid' },
      rapidCommit: false,
    });
    const efi = readDhcp6ClientFacts(messageOf(find('uefi-ipxe-efi', 'solicit')));
    expect(efi).toMatchObject({ isIpxe: true, arch: 7, nii: { type: 1, major: 3, minor: 10 }, uuid: find('uefi-ipxe-efi', 'solicit').vmUuid });
  });

  it('OVMF PXE sends no user class and its DUID holds the same UUID field-swapped; both stages map to one machine', () => {
    const solicit = find('uefi-ovmf-pxe', 'solicit');
    const ovmf = readDhcp6ClientFacts(messageOf(solicit), peerOf(solicit));
    expect(ovmf).toMatchObject({
      isIpxe: false,
      userClasses: [],
      vendorClass: { text: 'PXEClient:Arch:00007:UNDI:003000', arch: 7 },
      arch: 7,
      requestedOptions: [59, 60, 23, 16],
      firmware: 'uefi-pxe',
      uuid: solicit.vmUuid,
      mac: solicit.vmMac,
    });
    const ipxeSolicit = find('uefi-ipxe-efi', 'solicit');
    const ipxe = readDhcp6ClientFacts(messageOf(ipxeSolicit), peerOf(ipxeSolicit));
    // The raw DUIDs differ; the normalised UUID and the MAC do not.
    expect(ovmf.duidHex).not.toBe(ipxe.duidHex);
    expect(ipxe.uuid).toBe(ovmf.uuid);
    expect(ipxe.mac).toBe(ovmf.mac);
    expect(uuidMatchKey(ovmf.duidHex!.slice(4))).toBe(uuidMatchKey(ipxe.duidHex!.slice(4)));
  });

  it("OVMF's IPv6 stack runs its own DHCPv6 first (RA M flag), asking only for DNS: not a boot client", () => {
    const facts = readDhcp6ClientFacts(messageOf(find('uefi-ovmf-ip6config', 'solicit')));
    expect(facts).toMatchObject({ requestedOptions: [23], firmware: 'other', isIpxe: false });
    expect(facts.vendorClass).toBeUndefined();
  });

  it('the boot decision matches what dnsmasq was configured to answer each stage', () => {
    const binaries = new Set(['undionly.kpxe', 'ipxe.efi']);
    const decide = (stage: string) =>
      decideDhcp6Boot({ facts: readDhcp6ClientFacts(messageOf(find(stage, 'solicit'))), policy: {}, history: {}, now: 0, serverAddress: 'fd77::1', httpPort: 8080, binaries });
    expect(decide('bios-ipxe-rom')).toMatchObject({ action: 'boot', step: 'script', bootFileUrl: 'http://[fd77::1]:8080/boot.ipxe' });
    expect(decide('uefi-ipxe-efi')).toMatchObject({ action: 'boot', step: 'script', bootFileUrl: 'http://[fd77::1]:8080/boot.ipxe' });
    expect(decide('uefi-ovmf-pxe')).toMatchObject({ action: 'boot', step: 'nbp', bootFileUrl: 'tftp://[fd77::1]/ipxe.efi', transport: 'tftp' });
    expect(decide('uefi-ovmf-ip6config')).toMatchObject({ action: 'ignore' });
    for (const stage of ['bios-ipxe-rom', 'uefi-ovmf-pxe']) {
      const reply = messageOf(find(stage, 'reply', 'server-to-client'));
      const url = decodeBootFileUrl(findOption(reply, Option.BOOTFILE_URL)!);
      expect(url).toBe(decide(stage).action === 'boot' ? (decide(stage) as { bootFileUrl: string }).bootFileUrl : undefined);
    }
  });

  it("dnsmasq's replies carry an address in the IA_NA and a top-level status success", () => {
    const reply = messageOf(find('bios-ipxe-rom', 'reply', 'server-to-client'));
    const ia = decodeIaNa(findOption(reply, Option.IA_NA)!);
    const [address] = iaAddresses(ia);
    expect(address?.address).toMatch(/^fd77::1[0-9a-f]{2}$/);
    expect(address).toMatchObject({ preferredLifetime: 600, validLifetime: 600 });
    expect(statusOf(reply.options)).toEqual({ code: 0, name: 'SUCCESS', message: 'success' });
  });
});
