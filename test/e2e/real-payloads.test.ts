// Real payloads from Debian's archive, not the lab kernel: the shipped debian-installer preset boots the text
// installer of debian-installer-12-netboot-amd64 (its linux and initrd.gz, through the preset's
// installer_images variable), and the memtest preset boots memtest86+ from the memtest86+ package.
//
// The installer's cheapest evidence point, then the VM stops: it fetched the preseed from pxedeck's HTTP (an
// event with its own user agent), its syslog lines (log_host=) landed in that machine's timeline, and the
// registry shows it past "kernel", in the installer stage. Under TCG on 2 cores (docs/lab-seeds.md): IPv4
// ~75–140 s to the preseed fetch, IPv6 only ~100–175 s; memtest86+ starts testing within ~10 s.
import { existsSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpRequestEvent, PxedeckEvent } from '../../src/servers/events.js';
import { createLab, type Lab } from './lab/network.js';
import { labMac, labUuid, startVm, type Firmware, type Vm } from './lab/vm.js';
import { clientRows, ipv6OnlyTap, labSkipReason, serverIpv4, sharedLab, startPxedeck, type LabPxedeck } from './support/pxedeck-lab.js';

/** Where debian-installer-12-netboot-amd64 installs the text installer's kernel and initrd. */
const installerImages = '/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64';
const memtestImages = ['/boot/memtest86+x64.bin', '/boot/memtest86+x64.efi'];
const missingPayloads = [
  ...(existsSync(`${installerImages}/initrd.gz`) ? [] : ['debian-installer-12-netboot-amd64']),
  ...(memtestImages.every((file) => existsSync(file)) ? [] : ['memtest86+']),
];
const skipReason = labSkipReason() ?? (missingPayloads.length > 0 ? `missing the Debian packages ${missingPayloads.join(', ')}` : undefined);

/** The installer's time bound to the preseed fetch: the slowest run measured here, loaded, plus a margin. */
const INSTALLER_MS = 300_000;

/** The serial console, so the installer's questions (if one ever stops it) are in the failure message. */
const installerArgs = 'console=ttyS0,115200 DEBIAN_FRONTEND=text';

function failWith(vm: Vm, pxedeck: LabPxedeck, error: unknown): never {
  const events = pxedeck.events().filter((event) => event.source !== 'system' && event.kind !== 'ra.sent' && event.kind !== 'syslog.line');
  const serial = vm.serial().replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').slice(-2000);
  throw new Error(`${(error as Error).message}\nserial tail:\n${serial}\npxedeck events:\n${events.slice(-40).map((event) => JSON.stringify(event).slice(0, 300)).join('\n')}`);
}

/** The preseed fetch, the syslog lines and the installer stage, all of this one machine. */
async function expectInstallerHeardFrom(lab: Lab, pxedeck: LabPxedeck, vm: Vm, preseedPath: string): Promise<{ seconds: number; lines: number }> {
  try {
    const fetched = await pxedeck.waitFor<HttpRequestEvent>(
      (event) => event.kind === 'http.request' && event.path === preseedPath && event.status === 200,
      `the preseed fetch (${preseedPath})`,
      INSTALLER_MS,
    );
    expect(fetched).toMatchObject({ mac: vm.mac, userAgent: 'debian-installer', route: 'file' });
    const events = pxedeck.events();
    // The kernel and initrd are the package's files, served under their local names.
    for (const file of ['linux', 'initrd.gz']) {
      const done = events.find((event) => event.kind === 'transfer.done' && event.mac === vm.mac && new RegExp(`^/local-[0-9a-f]{8}-${file.replace('.', '\\.')}$`).test(event.file));
      expect(done, file).toMatchObject({ bytes: statSync(`${installerImages}/${file}`).size });
    }
    const lines = events.filter((event): event is Extract<PxedeckEvent, { kind: 'syslog.line' }> => event.kind === 'syslog.line');
    expect(lines.length).toBeGreaterThan(10);
    // Every line is this machine's: none left without a MAC, none given to another.
    expect(new Set(lines.map((line) => line.mac))).toEqual(new Set([vm.mac]));
    expect(lines.some((line) => line.app === 'netcfg')).toBe(true);
    const rows = await clientRows<{ mac: string; stage: string; path: Array<{ stage: string }> }>(lab, pxedeck);
    expect(rows.map((row) => row.mac)).toEqual([vm.mac]);
    expect(rows[0]!.stage).toBe('installer');
    expect(rows[0]!.path.map((step) => step.stage).slice(-3)).toEqual(['initrd', 'booted', 'installer']);
    return { seconds: (fetched.time - vm.startedAt) / 1000, lines: lines.length };
  } catch (error) {
    failWith(vm, pxedeck, error);
  }
}

describe.skipIf(skipReason !== undefined)(`real payloads from Debian packages${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  const shared = sharedLab();

  it('debian-installer preset over IPv4, kernel and initrd from debian-installer-12-netboot-amd64: preseed fetched, syslog in its timeline, installer stage', async () => {
    const { lab } = shared;
    const mac = labMac(60);
    const pxedeck = await startPxedeck(lab, {
      mode: 'dhcp',
      // A router and a name server in the lease: d-i's udhcpc script stops at a lease without a router (no
      // resolv.conf then), and netcfg asks for name servers it did not get.
      settings: { routers: ['10.77.0.1'], dnsServers: ['10.77.0.1'] },
      assignments: { [mac]: { target: { kind: 'profile', profile: 'debian-installer' }, variables: { installer_images: installerImages, extra_args: installerArgs } } },
    });
    const tap = await lab.addTap();
    const vm = await startVm({ lab, tap, firmware: 'bios-ipxe', mac, uuid: labUuid(), memoryMb: 1024 });
    try {
      const { seconds, lines } = await expectInstallerHeardFrom(lab, pxedeck, vm, '/files/preseed/debian.cfg');
      console.log(`debian-installer over IPv4: preseed fetched ${seconds.toFixed(1)} s after QEMU started; ${lines} syslog lines by then`);
    } finally {
      await vm.stop();
      await pxedeck.stop();
    }
  }, INSTALLER_MS + 60_000);

  for (const firmware of ['bios-ipxe', 'uefi-ipxe'] as const satisfies readonly Firmware[]) {
    it(`memtest preset on ${firmware}: memtest86+ from the Debian package starts testing (serial console)`, async () => {
      const { lab } = shared;
      const mac = labMac(firmware === 'bios-ipxe' ? 61 : 62);
      const image = firmware === 'bios-ipxe' ? 'memtest86+x64.bin' : 'memtest86+x64.efi';
      const pxedeck = await startPxedeck(lab, {
        mode: 'dhcp',
        assignments: { [mac]: { target: { kind: 'profile', profile: 'memtest' }, variables: { memtest_args: 'console=ttyS0,115200' } } },
      });
      const tap = await lab.addTap();
      // memtest86+'s EFI image draws through the firmware's graphics output: without a display adapter it stops
      // at once ("efi_setup() failed"), so the UEFI machine gets one (nothing is shown; -display none).
      const vm = await startVm({ lab, tap, firmware, mac, uuid: labUuid(), ...(firmware === 'uefi-ipxe' && { extraArgs: ['-device', 'VGA'] }) });
      try {
        await vm.waitForSerial(/Status: Testing/, 120_000);
        expect(vm.serial()).toMatch(/Pass:\s+0\s+Errors:\s+0/);
        const served = pxedeck.events().find((event) => event.kind === 'transfer.done' && event.file === `/${image}`);
        expect(served).toMatchObject({ mac, bytes: statSync(`/boot/${image}`).size });
        console.log(`memtest86+ (${firmware}): testing ${((Date.now() - vm.startedAt) / 1000).toFixed(1)} s after QEMU started`);
      } catch (error) {
        failWith(vm, pxedeck, error);
      } finally {
        await vm.stop();
        await pxedeck.stop();
      }
    }, 180_000);
  }
});

describe.skipIf(skipReason !== undefined)(`debian-installer on an IPv6-only bench${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let lab: Lab;

  beforeAll(async () => {
    lab = await createLab();
    await serverIpv4(lab, false);
  }, 60_000);

  afterAll(async () => {
    await lab?.destroy();
  });

  it('no IPv4 anywhere: DHCPv6 address, the seed\'s netcfg settings, preseed over [fd77::1], syslog in its timeline, installer stage', async () => {
    const mac = labMac(63);
    const pxedeck = await startPxedeck(lab, {
      mode: 'dhcp',
      args: ['--pool6', 'fd77::100-fd77::1ff'],
      settings: { dnsServers: ['fd77::1'] },
      assignments: {
        [mac]: {
          target: { kind: 'profile', profile: 'debian-installer' },
          variables: {
            installer_images: installerImages,
            preseed_url: 'http://[fd77::1]/files/preseed/debian-ipv6.cfg',
            // The seed's DHCPv6 timeout; DHCPv4, which d-i still tries after DHCPv6, given up on after 5 s.
            extra_args: `${installerArgs} netcfg/dhcpv6_timeout=10 netcfg/dhcp_timeout=5`,
          },
        },
      },
    });
    const tap = await lab.addTap();
    await ipv6OnlyTap(lab, tap);
    const vm = await startVm({ lab, tap, firmware: 'bios-ipxe', mac, uuid: labUuid(), memoryMb: 1024 });
    try {
      const { seconds, lines } = await expectInstallerHeardFrom(lab, pxedeck, vm, '/files/preseed/debian-ipv6.cfg');
      const events = pxedeck.events();
      // The installer's own DHCPv6 client got an address from pxedeck's pool; nothing spoke IPv4.
      expect(events.find((event) => event.kind === 'lease6.granted' && event.mac === mac)).toBeDefined();
      expect(events.some((event) => event.kind === 'dhcp.received')).toBe(false);
      const fetched = events.find((event): event is HttpRequestEvent => event.kind === 'http.request' && event.path === '/files/preseed/debian-ipv6.cfg')!;
      expect(fetched.ip).toMatch(/^fd77:/);
      console.log(`debian-installer IPv6 only: preseed fetched ${seconds.toFixed(1)} s after QEMU started from ${fetched.ip}; ${lines} syslog lines by then`);
    } finally {
      await vm.stop();
      await pxedeck.stop();
    }
  }, INSTALLER_MS + 60_000);
});
