// Real firmware in QEMU gets its answer from pxedeck alone (DHCP, 4011, TFTP, HTTP) and boots the lab
// kernel to its marker. Under TCG each boot takes 10-30 s; every test has its own time bound.
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DhcpPacketEvent, PxedeckEvent } from '../../src/servers/events.js';
import { startDnsmasq } from './lab/services.js';
import { labMac, labUuid, startVm, type Firmware } from './lab/vm.js';
import { ensureLabArtifacts } from './lab/artifacts.js';
import { labSkipReason, markerCmdline, sharedLab, startPxedeck, type LabPxedeck } from './support/pxedeck-lab.js';
import { optionValue } from '../../src/protocol/dhcp4/options-view.js';

const skipReason = labSkipReason();

const sent = (mac: string, type: string) => (event: PxedeckEvent) => event.kind === 'dhcp.sent' && event.mac === mac && event.messageType === type;
const received = (mac: string, type: string) => (event: PxedeckEvent) => event.kind === 'dhcp.received' && event.mac === mac && event.messageType === type;

describe.skipIf(skipReason !== undefined)(`firmware boots through pxedeck${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  const shared = sharedLab();
  let vmIndex = 20;

  async function bootVm(pxedeck: LabPxedeck, firmware: Firmware, marker: string, timeoutMs: number, mac = labMac(vmIndex++)) {
    const { lab } = shared;
    const tap = await lab.addTap();
    const vm = await startVm({ lab, tap, firmware, mac, uuid: labUuid() });
    try {
      expect(await vm.waitForBoot(timeoutMs)).toBe(marker);
    } catch (error) {
      throw new Error(`${(error as Error).message}\npxedeck events:\n${pxedeck.events().filter((event) => event.mac === mac).map((event) => JSON.stringify(event).slice(0, 300)).join('\n')}`);
    } finally {
      await vm.stop();
    }
    // A healthy boot is never diagnosed as a loop or a stall.
    expect(pxedeck.events().filter((event) => event.kind === 'client.diagnosis' && event.mac === mac)).toEqual([]);
    return mac;
  }

  it('BIOS iPXE ROM, full DHCP: address, script URL with 175.176, then kernel and initrd over HTTP', async () => {
    const { lab } = shared;
    const pxedeck = await startPxedeck(lab, { mode: 'dhcp', marker: 'bios-full' });
    try {
      const mac = await bootVm(pxedeck, 'bios-ipxe', 'bios-full', 60_000);
      const ack = await pxedeck.waitFor<DhcpPacketEvent>(sent(mac, 'ACK'), 'ACK');
      expect(ack.yiaddr).toMatch(/^10\.77\.0\.1\d\d$/);
      expect(ack.bootFile).toBe('http://10.77.0.1/boot.ipxe');
      expect(optionValue(ack.options, '175:ipxe')).toMatchObject({ noPxeDhcp: true });
      await pxedeck.waitFor((event) => event.kind === 'http.request' && event.route === 'script' && event.mac === mac, '/ipxe request');
      await pxedeck.waitFor((event) => event.kind === 'transfer.done' && event.source === 'http' && event.mac === mac && /vmlinuz/.test(event.file), 'kernel download');
      await pxedeck.waitFor((event) => event.kind === 'boot.beacon' && event.mac === mac && event.beacon === 'booted', 'booted beacon');
    } finally {
      await pxedeck.stop();
    }
  }, 120_000);

  it('BIOS through TFTP undionly.kpxe: the chainloaded iPXE gets the script, not the binary again (no loop)', async () => {
    const { lab } = shared;
    const mac = labMac(vmIndex++);
    const pxedeck = await startPxedeck(lab, { mode: 'dhcp', marker: 'bios-undionly', clients: { [mac]: { replaceIpxe: true } } });
    try {
      await bootVm(pxedeck, 'bios-ipxe', 'bios-undionly', 90_000, mac);
      const offers = pxedeck.events().filter((event): event is DhcpPacketEvent => sent(mac, 'OFFER')(event));
      expect(offers.map((offer) => offer.bootFile)).toEqual(['undionly.kpxe', 'http://10.77.0.1/boot.ipxe']);
      const tftp = await pxedeck.waitFor((event) => event.kind === 'transfer.done' && event.source === 'tftp' && event.file === 'undionly.kpxe', 'undionly.kpxe over TFTP');
      expect(tftp.mac).toBe(mac);
    } finally {
      await pxedeck.stop();
    }
  }, 150_000);

  it('UEFI OVMF PXE, proxy mode beside a dnsmasq that only hands out addresses: 4011, TFTP ipxe.efi, HTTP', async () => {
    const { lab } = shared;
    const site = await lab.addHost({ ip4: '10.77.0.2', label: 'site' });
    const dnsmasq = await startDnsmasq(lab, site, ['--dhcp-range=10.77.0.50,10.77.0.59,255.255.255.0,10m', '--no-ping'], 'site-dhcp');
    const pxedeck = await startPxedeck(lab, { mode: 'proxy', marker: 'uefi-proxy' });
    try {
      const mac = await bootVm(pxedeck, 'uefi-pxe', 'uefi-proxy', 120_000);
      const offer = await pxedeck.waitFor<DhcpPacketEvent>(sent(mac, 'OFFER'), 'proxy OFFER');
      expect(offer.yiaddr).toBeUndefined();
      expect(offer.bootFile).toBeUndefined();
      const bootServerAck = await pxedeck.waitFor<DhcpPacketEvent>((event) => event.source === 'pxe4011' && sent(mac, 'ACK')(event), '4011 ACK');
      expect(bootServerAck.bootFile).toBe('ipxe.efi');
      expect(bootServerAck.peer).toMatch(/^10\.77\.0\.5\d:/);
      await pxedeck.waitFor((event) => event.kind === 'transfer.done' && event.source === 'tftp' && event.file === 'ipxe.efi', 'ipxe.efi over TFTP');
      await pxedeck.waitFor(received(mac, 'DISCOVER'), 'iPXE DISCOVER');
    } finally {
      await pxedeck.stop();
      await dnsmasq.stop();
    }
  }, 180_000);

  it('BIOS iPXE ROM, proxy mode beside a dnsmasq that only hands out addresses', async () => {
    const { lab } = shared;
    const site = await lab.addHost({ ip4: '10.77.0.3', label: 'site2' });
    const dnsmasq = await startDnsmasq(lab, site, ['--dhcp-range=10.77.0.60,10.77.0.69,255.255.255.0,10m', '--no-ping'], 'site-dhcp2');
    const pxedeck = await startPxedeck(lab, { mode: 'proxy', marker: 'bios-proxy' });
    try {
      const mac = await bootVm(pxedeck, 'bios-ipxe', 'bios-proxy', 90_000);
      const offer = await pxedeck.waitFor<DhcpPacketEvent>(sent(mac, 'OFFER'), 'proxy OFFER');
      expect(offer.bootFile).toBe('http://10.77.0.1/boot.ipxe');
    } finally {
      await pxedeck.stop();
      await dnsmasq.stop();
    }
  }, 150_000);

  it('UEFI iPXE ROM, full DHCP', async () => {
    const { lab } = shared;
    const pxedeck = await startPxedeck(lab, { mode: 'dhcp', marker: 'uefi-ipxe' });
    try {
      const mac = await bootVm(pxedeck, 'uefi-ipxe', 'uefi-ipxe', 90_000);
      const ack = await pxedeck.waitFor<DhcpPacketEvent>(sent(mac, 'ACK'), 'ACK');
      expect(ack.bootFile).toBe('http://10.77.0.1/boot.ipxe');
    } finally {
      await pxedeck.stop();
    }
  }, 150_000);

  it('PXELINUX chains ipxe.lkrn (dhcp && chain, IPAPPEND 2), then iPXE boots over HTTP', async () => {
    const { lab } = shared;
    const mac = labMac(vmIndex++);
    const pxedeck = await startPxedeck(lab, { mode: 'dhcp', marker: 'pxelinux-chain', clients: { [mac]: { bootProgram: 'pxelinux' } } });
    try {
      await bootVm(pxedeck, 'bios-ipxe', 'pxelinux-chain', 90_000, mac);
      const tftp = pxedeck.events().filter((event) => event.kind === 'transfer.done' && event.source === 'tftp' && event.mac === mac);
      expect(tftp.map((event) => (event as { file: string }).file)).toEqual(expect.arrayContaining(['pxelinux.0', 'ldlinux.c32', expect.stringMatching(/^pxelinux\.cfg\//), 'ipxe.lkrn']));
      await pxedeck.waitFor((event) => event.kind === 'http.request' && event.route === 'script' && event.mac === mac, '/ipxe from the chained iPXE');
    } finally {
      await pxedeck.stop();
    }
  }, 150_000);

  it('PXELINUX boots the kernel itself over TFTP (direct)', async () => {
    const { lab } = shared;
    const mac = labMac(vmIndex++);
    const { kernel, initrd } = await ensureLabArtifacts();
    const pxedeck = await startPxedeck(lab, {
      mode: 'dhcp',
      clients: { [mac]: { bootProgram: 'pxelinux' } },
      assignments: { [mac]: { target: { kind: 'inline', kernel, initrds: [initrd], cmdline: markerCmdline('pxelinux-direct') }, pxelinux: 'direct' } },
    });
    try {
      await bootVm(pxedeck, 'bios-ipxe', 'pxelinux-direct', 90_000, mac);
      const files = pxedeck.events().flatMap((event) => (event.kind === 'transfer.done' && event.mac === mac ? [`${event.source}:${event.file}`] : []));
      expect(files).toEqual(expect.arrayContaining(['tftp:pxelinux.0', expect.stringMatching(/^tftp:local-[0-9a-f]{8}-vmlinuz$/), expect.stringMatching(/^tftp:local-[0-9a-f]{8}-initrd\.gz$/)]));
      expect(files.some((file) => file.startsWith('http:'))).toBe(false);
    } finally {
      await pxedeck.stop();
    }
  }, 150_000);

  it('a held machine waits in the poll loop and boots within seconds of an assignment through the control API', async () => {
    const { lab } = shared;
    const mac = labMac(vmIndex++);
    const { kernel, initrd } = await ensureLabArtifacts();
    const pxedeck = await startPxedeck(lab, { mode: 'dhcp', settings: { defaultTarget: 'hold' } });
    const tap = await lab.addTap();
    const vm = await startVm({ lab, tap, firmware: 'bios-ipxe', mac, uuid: labUuid() });
    try {
      // Two script requests: the hold script, then at least one poll.
      await pxedeck.waitFor((event) => event.kind === 'http.request' && event.route === 'script' && event.mac === mac, 'first /ipxe', 60_000);
      await new Promise((resolve) => setTimeout(resolve, 4000));
      const polls = pxedeck.events().filter((event) => event.kind === 'http.request' && event.route === 'script' && event.mac === mac).length;
      expect(polls).toBeGreaterThanOrEqual(2);
      // Through the API a kernel must be a file of the boot directory (or a URL): put the lab's there.
      const bootDir = join(pxedeck.dataDir, 'boot');
      copyFileSync(kernel, join(bootDir, 'lab-vmlinuz'));
      copyFileSync(initrd, join(bootDir, 'lab-initrd'));
      const body = JSON.stringify({ kernel: 'lab-vmlinuz', initrds: ['lab-initrd'], cmdline: markerCmdline('released') });
      const assigned = await lab.exec(lab.server.ns, 'curl', ['-sS', '-X', 'POST', ...pxedeck.controlAuth(), '-H', 'content-type: application/json', '-d', body, `http://127.0.0.1:7411/v1/clients/${mac}/assign`]);
      expect(assigned.stdout).toContain('"inline"');
      const assignedAt = Date.now();
      await pxedeck.waitFor((event) => event.kind === 'transfer.start' && event.mac === mac && /vmlinuz/.test((event as { file: string }).file), 'kernel after assignment', 30_000);
      expect(Date.now() - assignedAt).toBeLessThan(15_000);
      expect(await vm.waitForBoot(60_000)).toBe('released');
    } finally {
      await vm.stop();
      await pxedeck.stop();
    }
  }, 150_000);
});
