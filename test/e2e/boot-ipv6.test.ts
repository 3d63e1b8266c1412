// IPv6 netboot through pxedeck with real firmware: router advertisement, DHCPv6 (address + boot file URL),
// the iPXE script and the lab kernel over HTTP on IPv6. An "IPv6-only" VM's tap drops IPv4 and ARP at the lab
// bridge, so the machine lives in an IPv6-only world; for those scenarios the server has no IPv4 address at all
// (the Ceph rack seed: "No IPv4 in this network present"), so DHCPv4 and the PXE boot server do not apply and
// everything is served on fd77::1. The dual-stack scenario gives the server its IPv4 address back.
// Every scenario boots the lab kernel to its marker. Under TCG on 2 cores the file takes ~150 s: BIOS iPXE
// ~25 s, UEFI iPXE ~25–40 s, OVMF PXEv6 → ipxe.efi ~40 s (marker after ~34 s; 43 s with RAs of lifetime 0),
// dual stack ~24 s, stateless ~22 s.
//
// Where the time goes (measured in this lab):
// - IPv6-only, every iPXE stage waits ~15 s after its DHCPv6 Reply: `autoboot` configures with all
//   configurators and waits until each has finished, and DHCPv4 only gives up after its timeout.
// - OVMF's PXEv6, after its DHCPv6 Reply, polls its route table for up to 10 s for a route to the boot server
//   (PxeBcCheckRouteTable); only a default router (RA lifetime > 0) satisfies it. With RAs of lifetime 0
//   (pxedeck in proxy mode, or --ra-lifetime 0) Reply → TFTP took ~11.5 s; full DHCP mode advertises 30 s,
//   and it takes ~1–2 s, as with a dnsmasq router.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidMatchKey } from '../../src/boot/dhcp6-identity.js';
import type { Dhcp6PacketEvent, DhcpPacketEvent, HttpRequestEvent, PxedeckEvent } from '../../src/servers/events.js';
import { createLab, type Lab } from './lab/network.js';
import { startDnsmasq } from './lab/services.js';
import { labMac, labUuid, startVm, type Firmware } from './lab/vm.js';
import { ipv6OnlyTap, labSkipReason, serverIpv4, startPxedeck, type LabPxedeck } from './support/pxedeck-lab.js';
import { optionValue } from '../../src/protocol/dhcp4/options-view.js';

const skipReason = labSkipReason();
const pool6 = ['--pool6', 'fd77::100-fd77::1ff'];

/** pxedeck started on the server without IPv4: it said so, and nothing of it listens on IPv4. */
function expectIpv6OnlyServer(pxedeck: LabPxedeck): void {
  const events = pxedeck.events();
  expect(events.flatMap((event) => (event.kind === 'server.not-applicable' ? [event.server] : []))).toEqual(['dhcp4', 'pxe-boot-server', 'dhcp-watch']);
  const addresses = events.flatMap((event) => (event.kind === 'server.listening' && event.server !== 'control' ? [event.address ?? ''] : []));
  expect(addresses.filter((address) => /\b10\.77\.0\.1\b/.test(address))).toEqual([]);
  expect(addresses).toEqual(expect.arrayContaining(['fd77::1:69', '[fd77::1]:80']));
  expect(events.filter((event) => event.kind === 'server.error')).toEqual([]);
}

/** The SLAAC address firmware forms from a /64 prefix and its MAC (modified EUI-64), as Node prints it. */
function eui64(prefix: string, mac: string): string {
  const b = mac.split(':').map((part) => Number.parseInt(part, 16));
  const groups = [((b[0]! ^ 0x02) << 8) | b[1]!, (b[2]! << 8) | 0xff, 0xfe00 | b[3]!, (b[4]! << 8) | b[5]!];
  return `${prefix}${groups.map((group) => group.toString(16)).join(':')}`;
}

const isDhcp6 = (kind: 'dhcp6.sent' | 'dhcp6.received') => (event: PxedeckEvent): event is Dhcp6PacketEvent => event.kind === kind;

/** What the control API's registry holds: the rows the console shows. */
type ClientRow = { mac: string; ip?: string; firmware?: string; stage: string; cycles: number };

describe.skipIf(skipReason !== undefined)(`IPv6 netboot through pxedeck${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let lab: Lab;
  let vmIndex = 40;

  beforeAll(async () => {
    lab = await createLab();
  }, 60_000);

  afterAll(async () => {
    await lab?.destroy();
  });

  /** Boots one VM to `marker`; on failure the error carries pxedeck's events. */
  async function bootToMarker(pxedeck: LabPxedeck, opts: { firmware: Firmware; marker: string; v6only: boolean; timeoutMs: number }) {
    const tap = await lab.addTap();
    if (opts.v6only) await ipv6OnlyTap(lab, tap);
    const mac = labMac(vmIndex++);
    const uuid = labUuid();
    const started = Date.now();
    const vm = await startVm({ lab, tap, firmware: opts.firmware, mac, uuid });
    try {
      expect(await vm.waitForBoot(opts.timeoutMs)).toBe(opts.marker);
    } catch (error) {
      const events = pxedeck.events().filter((event) => event.source !== 'system' && event.kind !== 'ra.sent');
      throw new Error(`${(error as Error).message}\npxedeck events:\n${events.map((event) => JSON.stringify(event).slice(0, 400)).join('\n')}`);
    } finally {
      await vm.stop();
    }
    return { mac, uuid, seconds: (Date.now() - started) / 1000 };
  }

  async function registryRows(pxedeck: LabPxedeck): Promise<ClientRow[]> {
    const result = await lab.exec(lab.server.ns, 'curl', ['-sS', '--max-time', '5', ...pxedeck.controlAuth(), 'http://127.0.0.1:7411/v1/clients']);
    return (JSON.parse(result.stdout) as { clients: ClientRow[] }).clients;
  }

  /** Every event that names a machine names this one, and the console has exactly one row: this machine. */
  async function expectOneMachine(pxedeck: LabPxedeck, mac: string): Promise<ClientRow> {
    const macs = new Set(pxedeck.events().filter((event) => event.mac && event.source !== 'system').map((event) => event.mac));
    expect([...macs]).toEqual([mac]);
    const rows = await registryRows(pxedeck);
    expect(rows.map((row) => row.mac)).toEqual([mac]);
    return rows[0]!;
  }

  it('BIOS iPXE, IPv6 only (no IPv4 on the server at all): pxedeck RA (M/O), DHCPv6 address and script URL, kernel over HTTP [fd77::1], one machine', async () => {
    const marker = 'bios-ipv6';
    await serverIpv4(lab, false);
    const pxedeck = await startPxedeck(lab, { mode: 'dhcp', marker, args: pool6 });
    try {
      await pxedeck.waitFor((event) => event.kind === 'ra.started', 'ra.started', 10_000);
      expectIpv6OnlyServer(pxedeck);
      const { mac, seconds } = await bootToMarker(pxedeck, { firmware: 'bios-ipxe', marker, v6only: true, timeoutMs: 120_000 });
      const events = pxedeck.events();
      const reply = events.filter(isDhcp6('dhcp6.sent')).find((event) => event.messageType === 'REPLY' && (event.addresses?.length ?? 0) > 0);
      expect(reply).toBeDefined();
      expect(reply!.addresses![0]).toMatch(/^fd77::1[0-9a-f]{2}$/);
      expect(reply!.bootFileUrl).toBe('http://[fd77::1]/boot.ipxe');
      // Everything after DHCPv6 came over IPv6, and all of it is the one machine.
      expect(events.find((event) => event.kind === 'http.request' && event.route === 'script')).toMatchObject({ mac });
      expect(events.find((event) => event.kind === 'transfer.done' && event.source === 'http' && /vmlinuz/.test(event.file))).toMatchObject({ mac });
      expect(events.some((event) => event.kind === 'dhcp.received' && event.mac === mac)).toBe(false);
      await expectOneMachine(pxedeck, mac);
      console.log(`IPv6-only BIOS iPXE: marker after ${seconds.toFixed(1)} s; DHCPv6 address ${reply!.addresses![0]}`);
    } finally {
      await pxedeck.stop();
    }
  }, 180_000);

  it('UEFI iPXE (OVMF + the ROM\'s EFI iPXE), IPv6 only (no IPv4 on the server): DHCPv6 arch 7, script over HTTP [fd77::1], kernel and initrd', async () => {
    const marker = 'uefi-ipxe-v6';
    await serverIpv4(lab, false);
    const pxedeck = await startPxedeck(lab, { mode: 'dhcp', marker, args: pool6 });
    try {
      await pxedeck.waitFor((event) => event.kind === 'ra.started', 'ra.started', 10_000);
      expectIpv6OnlyServer(pxedeck);
      const { mac, uuid, seconds } = await bootToMarker(pxedeck, { firmware: 'uefi-ipxe', marker, v6only: true, timeoutMs: 150_000 });
      const events = pxedeck.events();
      const solicit = events.filter(isDhcp6('dhcp6.received')).find((event) => event.messageType === 'SOLICIT' && event.client === 'ipxe');
      expect(solicit).toMatchObject({ mac, uuid, options: { 'client-arch-type': [7] } });
      const reply = events.filter(isDhcp6('dhcp6.sent')).find((event) => event.messageType === 'REPLY' && (event.addresses?.length ?? 0) > 0);
      expect(reply).toMatchObject({ mac, bootFileUrl: 'http://[fd77::1]/boot.ipxe' });
      const files = events.flatMap((event) => (event.kind === 'transfer.done' && event.mac === mac ? [`${event.source}:${event.file}`] : []));
      expect(files).toEqual(expect.arrayContaining([expect.stringMatching(/^http:.*vmlinuz$/), expect.stringMatching(/^http:.*initrd/)]));
      expect(events.some((event) => event.kind === 'dhcp.received')).toBe(false);
      const row = await expectOneMachine(pxedeck, mac);
      expect(row.firmware).toBe('iPXE (IPv6)');
      console.log(`IPv6-only UEFI iPXE: marker after ${seconds.toFixed(1)} s; DHCPv6 address ${reply!.addresses![0]}`);
    } finally {
      await pxedeck.stop();
    }
  }, 200_000);

  it('OVMF native PXEv6 (no iPXE ROM, IPv4 PXE off), IPv6 only (no IPv4 on the server): tftp://[fd77::1]/ipxe.efi, then iPXE over HTTP, one machine', async () => {
    const marker = 'ovmf-pxe6';
    await serverIpv4(lab, false);
    const pxedeck = await startPxedeck(lab, { mode: 'dhcp', marker, args: pool6 });
    try {
      // Full DHCP mode: pxedeck is the bench's default router, which OVMF waits for before its TFTP.
      expect(await pxedeck.waitFor((event) => event.kind === 'ra.started', 'ra.started', 10_000)).toMatchObject({ routerLifetime: 30 });
      expectIpv6OnlyServer(pxedeck);
      const { mac, uuid, seconds } = await bootToMarker(pxedeck, { firmware: 'uefi-pxe6', marker, v6only: true, timeoutMs: 180_000 });
      const events = pxedeck.events();
      const received = events.filter(isDhcp6('dhcp6.received'));
      const sent = events.filter(isDhcp6('dhcp6.sent'));
      // OVMF's PXE base code: vendor class PXEClient arch 7, no user class; its DUID holds the UUID field-swapped.
      const pxeSolicit = received.find((event) => event.messageType === 'SOLICIT' && event.client === 'uefi-pxe');
      expect(pxeSolicit).toMatchObject({ mac, uuid });
      expect(sent.find((event) => event.bootFileUrl?.startsWith('tftp:'))).toMatchObject({ mac, bootFileUrl: 'tftp://[fd77::1]/ipxe.efi' });
      await pxedeck.waitFor((event) => event.kind === 'transfer.done' && event.source === 'tftp' && event.file === 'ipxe.efi' && event.mac === mac, 'ipxe.efi over TFTP', 1000);
      // From the Reply that names ipxe.efi to OVMF's first TFTP request: no 10 s wait for a default route.
      const tftpReply = sent.find((event) => event.messageType === 'REPLY' && event.bootFileUrl?.startsWith('tftp:'))!;
      const firstTftp = events.find((event) => event.kind === 'transfer.start' && event.source === 'tftp' && event.file === 'ipxe.efi')!;
      const replyToTftpSeconds = (firstTftp.time - tftpReply.time) / 1000;
      expect(replyToTftpSeconds).toBeLessThan(6);
      // ipxe.efi: DUID in RFC 4122 order, yet the same UUID and the same machine.
      const ipxeSolicit = received.find((event) => event.messageType === 'SOLICIT' && event.client === 'ipxe');
      expect(ipxeSolicit).toMatchObject({ mac, uuid });
      expect(ipxeSolicit!.duid).not.toBe(pxeSolicit!.duid);
      expect(sent.find((event) => event.bootFileUrl?.startsWith('http:'))).toMatchObject({ mac, bootFileUrl: 'http://[fd77::1]/boot.ipxe' });
      expect(events.find((event) => event.kind === 'transfer.done' && event.source === 'http' && /vmlinuz/.test(event.file))).toMatchObject({ mac });
      expect(events.some((event) => event.kind === 'dhcp.received')).toBe(false);
      expect(events.filter((event) => event.kind === 'client.diagnosis')).toEqual([]);
      await expectOneMachine(pxedeck, mac);
      console.log(`IPv6-only OVMF PXEv6 → ipxe.efi → HTTP: marker after ${seconds.toFixed(1)} s; DHCPv6 Reply → TFTP ${replyToTftpSeconds.toFixed(1)} s`);
    } finally {
      await pxedeck.stop();
    }
  }, 240_000);

  it('dual stack, one row: OVMF PXEv6 → ipxe.efi, whose iPXE does DHCPv4 and DHCPv6 at once; OVMF DUID, iPXE DUID and option 97 make one row, one boot cycle', async () => {
    const marker = 'dual-stack';
    await serverIpv4(lab, true);
    const pxedeck = await startPxedeck(lab, { mode: 'dhcp', marker, args: pool6 });
    try {
      await pxedeck.waitFor((event) => event.kind === 'ra.started', 'ra.started', 10_000);
      const { mac, uuid, seconds } = await bootToMarker(pxedeck, { firmware: 'uefi-pxe6', marker, v6only: false, timeoutMs: 180_000 });
      const events = pxedeck.events();
      const received6 = events.filter(isDhcp6('dhcp6.received'));
      // Stage 1 over IPv6 only (IPv4 PXE is off): OVMF, UUID field-swapped in its DUID.
      expect(received6.find((event) => event.messageType === 'SOLICIT' && event.client === 'uefi-pxe')).toMatchObject({ mac, uuid });
      // Stage 2: the same iPXE asks both families; DHCPv4 names it by MAC and option 97, DHCPv6 by a UUID DUID.
      const discover = events.find((event): event is DhcpPacketEvent => event.kind === 'dhcp.received' && event.messageType === 'DISCOVER');
      expect(discover).toMatchObject({ mac, client: expect.stringMatching(/^iPXE/) });
      // Option 97 carries the SMBIOS byte order, iPXE's DUID the RFC 4122 one: the same UUID either way.
      expect(uuidMatchKey(String(optionValue(discover!.options, '97:client-uuid')))).toBe(uuidMatchKey(uuid));
      expect(received6.find((event) => event.messageType === 'SOLICIT' && event.client === 'ipxe')).toMatchObject({ mac, uuid });
      const ack = events.find((event): event is DhcpPacketEvent => event.kind === 'dhcp.sent' && event.messageType === 'ACK');
      expect(ack).toMatchObject({ mac, bootFile: 'http://10.77.0.1/boot.ipxe' });
      const reply6 = events.filter(isDhcp6('dhcp6.sent')).find((event) => event.messageType === 'REPLY' && event.bootFileUrl?.startsWith('http:'));
      expect(reply6).toMatchObject({ mac, bootFileUrl: 'http://[fd77::1]/boot.ipxe' });
      const script = events.find((event): event is HttpRequestEvent => event.kind === 'http.request' && event.route === 'script');
      expect(script).toMatchObject({ mac });
      expect(events.filter((event) => event.kind === 'client.diagnosis')).toEqual([]);
      const row = await expectOneMachine(pxedeck, mac);
      expect(row).toMatchObject({ cycles: 1, stage: 'booted' });
      console.log(`dual stack OVMF PXEv6 → ipxe.efi: marker after ${seconds.toFixed(1)} s; iPXE fetched its script from ${script!.ip} (DHCPv4 ${ack!.yiaddr}, DHCPv6 ${reply6!.addresses?.[0]}); row ${JSON.stringify(row).slice(0, 200)}`);
    } finally {
      await pxedeck.stop();
    }
  }, 240_000);

  it('stateless proxy mode on an IPv6-only server beside a site router: SLAAC + O flag from dnsmasq, pxedeck answers iPXE\'s Information-request with the script URL only', async () => {
    const marker = 'stateless-v6';
    await serverIpv4(lab, false);
    // The site: RAs with A (SLAAC) and O set, and a DHCPv6 service that ignores every client (tag:!known),
    // so the boot file URL can only come from pxedeck. A site DHCPv6 server that also answered would race
    // pxedeck: iPXE takes the first Reply to its Information-request. With the M flag instead (a stateful site
    // server) iPXE drops pxedeck's address-less Advertise and never sees the URL: stateless mode cannot boot
    // an IPv6-only iPXE there.
    const site = await lab.addHost({ ip4: '10.77.0.240', ip6: 'fd77::240', label: 'rtr' });
    const router = await startDnsmasq(lab, site, ['--enable-ra', `--dhcp-range=::,constructor:${site.iface},ra-stateless`, '--dhcp-ignore=tag:!known'], 'site-ra');
    const pxedeck = await startPxedeck(lab, { mode: 'proxy', marker });
    try {
      const seen = await pxedeck.waitFor((event) => event.kind === 'ra.router-seen', 'the site router', 15_000);
      expect(seen).toMatchObject({ managed: false, other: true });
      expectIpv6OnlyServer(pxedeck);
      expect(pxedeck.events().find((event) => event.kind === 'notice' && /IPv6 only/.test(event.message))).toMatchObject({ message: expect.stringMatching(/Proxy mode here: DHCPv6 answers boot requests with boot options only/) });
      const { mac, seconds } = await bootToMarker(pxedeck, { firmware: 'bios-ipxe', marker, v6only: true, timeoutMs: 120_000 });
      const events = pxedeck.events();
      // A router is on the segment: pxedeck never advertises itself.
      expect(events.some((event) => event.kind === 'ra.started')).toBe(false);
      expect(events.filter(isDhcp6('dhcp6.received')).map((event) => event.messageType)).toEqual(['INFORMATION_REQUEST']);
      const reply = events.filter(isDhcp6('dhcp6.sent')).find((event) => event.messageType === 'REPLY');
      expect(reply).toMatchObject({ mac, bootFileUrl: 'http://[fd77::1]/boot.ipxe' });
      expect(reply!.addresses).toBeUndefined();
      expect(await router.waitForLog(/DHCPINFORMATION-REQUEST\S* \S+ ignored/, 1000)).toBeTruthy();
      // The script and kernel went to the address iPXE formed itself from the router's prefix.
      const script = events.find((event): event is HttpRequestEvent => event.kind === 'http.request' && event.route === 'script');
      expect(script).toMatchObject({ mac, ip: eui64('fd77::', mac) });
      expect(events.find((event) => event.kind === 'transfer.done' && event.source === 'http' && /vmlinuz/.test(event.file))).toMatchObject({ mac });
      await expectOneMachine(pxedeck, mac);
      console.log(`stateless IPv6 BIOS iPXE beside a SLAAC router: marker after ${seconds.toFixed(1)} s, SLAAC address ${script!.ip}`);
    } finally {
      await pxedeck.stop();
      await router.stop();
    }
  }, 180_000);
});
