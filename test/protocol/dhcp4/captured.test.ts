// The codec against packets captured from real firmware in the VM lab (test/fixtures/dhcp4/README.md).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readClientFacts } from '../../../src/boot/client-facts.js';
import { decideDhcpBoot } from '../../../src/boot/dhcp-decision.js';
import { BROADCAST_FLAG } from '../../../src/protocol/dhcp4/constants.js';
import { decode } from '../../../src/protocol/dhcp4/packet.js';
import { encode, encodingLength } from '../../../src/protocol/dhcp4/encode.js';

interface Fixture {
  readonly file: string;
  readonly stage: string;
  readonly scenario: string;
  readonly direction: 'client-to-server' | 'server-to-client';
  readonly messageType: string;
  readonly xid: string;
  readonly length: number;
  readonly header: { broadcastFlag: boolean; ciaddr: string; yiaddr: string; siaddr: string; chaddr: string; sname: string; file: string };
  readonly options: ReadonlyArray<{ code: number; hex: string }>;
}

const dir = resolve(import.meta.dirname, '../../fixtures/dhcp4');
const manifest = JSON.parse(readFileSync(resolve(dir, 'manifest.json'), 'utf8')) as { fixtures: Fixture[] };
const bytesOf = (fixture: Fixture) => Buffer.from(readFileSync(resolve(dir, fixture.file), 'utf8').replace(/\s+/g, ''), 'hex');
const clientPackets = manifest.fixtures.filter((fixture) => fixture.direction === 'client-to-server');
const find = (stage: string, type: string, scenario?: string) =>
  clientPackets.find((fixture) => fixture.stage === stage && fixture.messageType === type && (!scenario || fixture.scenario === scenario))!;

describe('captured firmware packets', () => {
  it('cover every firmware the lab boots', () => {
    expect(new Set(clientPackets.map((fixture) => fixture.stage))).toEqual(
      new Set(['bios-ipxe-rom', 'bios-undionly-kpxe', 'uefi-ovmf-pxe', 'uefi-ipxe-efi', 'uefi-ipxe-rom']),
    );
  });

  it.each(manifest.fixtures.map((fixture) => [fixture.file, fixture] as const))('%s decodes to what was captured, and round-trips', (_name, fixture) => {
    const bytes = bytesOf(fixture);
    expect(bytes.length).toBe(fixture.length);
    const packet = decode(bytes);
    expect(packet.xid).toBe(Number(fixture.xid));
    expect((packet.flags & BROADCAST_FLAG) !== 0).toBe(fixture.header.broadcastFlag);
    expect(packet).toMatchObject({
      ciaddr: fixture.header.ciaddr,
      yiaddr: fixture.header.yiaddr,
      siaddr: fixture.header.siaddr,
      sname: fixture.header.sname,
      file: fixture.header.file,
    });
    expect(packet.chaddr.subarray(0, 6).toString('hex')).toBe(fixture.header.chaddr.replace(/:/g, ''));
    const expected = new Map<number, string>();
    for (const option of fixture.options) expected.set(option.code, (expected.get(option.code) ?? '') + option.hex);
    expect(new Map([...packet.options].map(([code, value]) => [code, value.toString('hex')]))).toEqual(expected);

    const encoded = encode(packet);
    expect(encoded.length).toBe(encodingLength(packet));
    expect(decode(encoded)).toEqual(packet);
    expect(encode(decode(encoded))).toEqual(encoded);
  });

  it('the iPXE ROM sends user class 77 as raw bytes, plus option 175', () => {
    const facts = readClientFacts(decode(bytesOf(find('bios-ipxe-rom', 'DISCOVER'))));
    expect(facts).toMatchObject({ firmware: 'ipxe', isIpxe: true, userClassForm: 'raw', userClasses: ['iPXE'], arch: 0 });
    expect(facts.ipxe?.features).toEqual(expect.arrayContaining(['http', 'tftp']));
  });

  it('a chainloaded undionly.kpxe sends the same options as the ROM: only state tells them apart', () => {
    const rom = decode(bytesOf(find('bios-ipxe-rom', 'DISCOVER', 'full-bios-chain-undionly')));
    const chained = decode(bytesOf(find('bios-undionly-kpxe', 'DISCOVER', 'full-bios-chain-undionly')));
    expect(chained.options).toEqual(rom.options);
    expect(chained.flags & BROADCAST_FLAG).not.toBe(rom.flags & BROADCAST_FLAG);
  });

  it("OVMF's own PXE is UEFI x64 PXE without a user class", () => {
    const facts = readClientFacts(decode(bytesOf(find('uefi-ovmf-pxe', 'DISCOVER'))));
    expect(facts).toMatchObject({ firmware: 'uefi-pxe', isIpxe: false, arch: 7, userClasses: [] });
    expect(facts.vendorClass?.text).toBe('PXEClient:Arch:00007:UNDI:003000');
  });

  it.each([
    ['bios-ipxe-rom', 'script', 'http://10.77.0.1/boot.ipxe'],
    ['bios-undionly-kpxe', 'script', 'http://10.77.0.1/boot.ipxe'],
    ['uefi-ipxe-rom', 'script', 'http://10.77.0.1/boot.ipxe'],
    ['uefi-ipxe-efi', 'script', 'http://10.77.0.1/boot.ipxe'],
    ['uefi-ovmf-pxe', 'nbp', 'ipxe.efi'],
  ])('the boot core answers %s with its %s', (stage, step, bootFile) => {
    const decision = decideDhcpBoot({
      facts: readClientFacts(decode(bytesOf(find(stage, 'DISCOVER')))),
      policy: {},
      history: {},
      now: 0,
      scriptUrl: 'http://10.77.0.1/boot.ipxe',
      httpUrl: (file) => `http://10.77.0.1/${file}`,
      binaries: new Set(['undionly.kpxe', 'ipxe.efi']),
    });
    expect(decision).toMatchObject({ action: 'boot', step, bootFile });
  });
});
