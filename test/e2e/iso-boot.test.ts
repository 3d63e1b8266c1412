// Real firmware boots installer ISOs through `pxedeck --iso`, as they are: ISOs built here with xorriso in
// the real layouts (Ubuntu casper, Fedora images/pxeboot + .treeinfo, a generic ISOLINUX menu) carrying
// the lab kernel and an initrd that prints its command line, and Debian's own memtest86+ ISO. Each command
// line names pxedeck's URL for the distribution's network source, and that URL serves the ISO or its tree.
// A Secure Boot machine boots a Debian live ISO's signed kernel through pxedeck's shim → GRUB chain.
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureLabArtifacts, secureBootMarker } from './lab/artifacts.js';
import { labMac, labUuid, startVm, type Firmware } from './lab/vm.js';
import { labSkipReason, markerCmdline, sharedLab, startPxedeck, type LabPxedeck } from './support/pxedeck-lab.js';
import { buildIso, xorrisoMissing, type BuiltIso } from '../support/iso-builder.js';

const memtestIso = '/usr/lib/memtest86+/memtest86+x64.iso';
const signedChainMissing = !['/usr/lib/shim/shimx64.efi.signed', '/usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed'].every((file) => existsSync(file));
const skipReason = labSkipReason() ?? xorrisoMissing();

describe.skipIf(skipReason !== undefined)(`installer ISOs boot through pxedeck --iso${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  const shared = sharedLab();
  const built: BuiltIso[] = [];
  let vmIndex = 60;
  let kernel = '';
  let initrd = '';

  beforeAll(async () => {
    ({ kernel, initrd } = await ensureLabArtifacts());
  }, 600_000);
  afterAll(() => {
    for (const image of built) image.remove();
  });

  function iso(name: string, files: Parameters<typeof buildIso>[0], volumeId: string): string {
    const image = buildIso(files, { volumeId, name });
    built.push(image);
    return image.path;
  }

  /** Boots one VM and returns the command line its initrd printed. */
  async function bootAndReadCmdline(pxedeck: LabPxedeck, firmware: Firmware, marker: string, timeoutMs: number): Promise<string> {
    const { lab } = shared;
    const mac = labMac(vmIndex++);
    const vm = await startVm({ lab, tap: await lab.addTap(), firmware, mac, uuid: labUuid() });
    try {
      expect(await vm.waitForBoot(timeoutMs)).toBe(marker);
      return (await vm.waitForSerial(/PXEDECK-CMDLINE ([^\r\n]*)\r?\n/, 10_000))[1]!;
    } catch (error) {
      const events = pxedeck.events().filter((event) => event.mac === mac || event.kind === 'notice');
      throw new Error(`${(error as Error).message}\nserial:\n${readFileSync(vm.serialLog, 'utf8').slice(-2000)}\npxedeck events:\n${events.map((event) => JSON.stringify(event).slice(0, 300)).join('\n')}`);
    } finally {
      await vm.stop();
    }
  }

  const launch = (args: readonly string[]) => startPxedeck(shared.lab, { mode: 'dhcp', args });

  async function curl(args: readonly string[]): Promise<string> {
    const result = await shared.lab.exec(shared.lab.server.ns, 'curl', ['-sS', '--max-time', '20', ...args]);
    return result.stdout;
  }

  it('Ubuntu casper (BIOS iPXE): url= names the ISO on pxedeck, and that URL serves the ISO with Range', async () => {
    const path = iso(
      'ubuntu-24.04.1-live-server-amd64.iso',
      {
        '.disk/info': 'Ubuntu-Server 24.04.1 LTS "Noble Numbat" - Release amd64 (20240827.1)\n',
        'casper/vmlinuz': { copyOf: kernel },
        'casper/initrd': { copyOf: initrd },
        'boot/grub/grub.cfg': 'menuentry "Try or Install Ubuntu Server" {\n\tset gfxpayload=keep\n\tlinux\t/casper/vmlinuz  ---\n\tinitrd\t/casper/initrd\n}\n',
        'ubuntu': { symlink: '.' },
      },
      'Ubuntu-Server 24.04.1 LTS amd64',
    );
    const pxedeck = await launch(['--iso', path, '--cmdline', markerCmdline('iso-casper')]);
    try {
      const notice = await pxedeck.waitFor((event) => event.kind === 'notice' && /ubuntu-24\.04\.1-live-server-amd64\.iso → profile/.test(event.message), 'ISO notice', 5000);
      expect(notice).toMatchObject({ message: expect.stringMatching(/Ubuntu-Server 24\.04\.1 LTS \(casper\)/) });
      const cmdline = await bootAndReadCmdline(pxedeck, 'bios-ipxe', 'iso-casper', 90_000);
      const url = /url=(\S+)/.exec(cmdline)?.[1];
      expect(url).toBe('http://10.77.0.1/iso/ubuntu-24.04.1-live-server-amd64.iso');
      expect(cmdline).toContain('ip=dhcp');
      const head = await curl(['-D', '-', '-o', '/dev/null', '-r', '32768-34815', url!]);
      expect(head).toMatch(/^HTTP\/1\.1 206/);
      expect(head).toMatch(new RegExp(`content-range: bytes 32768-34815/${readFileSync(path).length}`, 'i'));
      const descriptor = await shared.lab.exec(shared.lab.server.ns, 'sh', ['-c', `curl -sS -r 32769-32773 ${url}`]);
      expect(descriptor.stdout).toBe('CD001');
    } finally {
      await pxedeck.stop();
    }
  }, 180_000);

  it('Fedora (UEFI iPXE): inst.stage2= names the ISO tree on pxedeck, and that URL serves .treeinfo and images/', async () => {
    const treeinfo = '[header]\ntype = productmd.treeinfo\nversion = 1.2\n\n[release]\nname = Fedora\nshort = Fedora\nversion = 40\n\n[general]\nfamily = Fedora\nversion = 40\narch = x86_64\n\n[images-x86_64]\nkernel = images/pxeboot/vmlinuz\ninitrd = images/pxeboot/initrd.img\n';
    const path = iso(
      'Fedora-Server-netinst-x86_64-40-1.14.iso',
      { '.treeinfo': treeinfo, 'images/pxeboot/vmlinuz': { copyOf: kernel }, 'images/pxeboot/initrd.img': { copyOf: initrd }, 'images/install.img': 'stage2 stands in here\n' },
      'Fedora-S-dvd-x86_64-40',
    );
    const pxedeck = await launch(['--iso', path, '--cmdline', markerCmdline('iso-fedora')]);
    try {
      const cmdline = await bootAndReadCmdline(pxedeck, 'uefi-ipxe', 'iso-fedora', 120_000);
      const tree = /inst\.stage2=(\S+)/.exec(cmdline)?.[1];
      expect(tree).toBe('http://10.77.0.1/iso/fedora-server-netinst-x86_64-40-1.14');
      expect(await curl([`${tree}/.treeinfo`])).toBe(treeinfo);
      expect(await curl(['-r', '0-5', `${tree}/images/install.img`])).toBe('stage2');
    } finally {
      await pxedeck.stop();
    }
  }, 180_000);

  it("a generic ISOLINUX image (BIOS iPXE): the menu's default entry boots with its own command line", async () => {
    const path = iso(
      'mydistro-1.0.iso',
      {
        'isolinux/isolinux.cfg': 'UI menu.c32\nPROMPT 0\nTIMEOUT 50\nINCLUDE menu.cfg\n',
        'isolinux/menu.cfg': `DEFAULT live\nLABEL memtest\n  KERNEL memtest.c32\nLABEL live\n  MENU LABEL Start MyDistro\n  KERNEL /boot/vmlinuz\n  APPEND initrd=/boot/initrd.gz ${markerCmdline('iso-generic')} root=live:CDLABEL=MYDISTRO\n`,
        'boot/vmlinuz': { copyOf: kernel },
        'boot/initrd.gz': { copyOf: initrd },
      },
      'MYDISTRO',
    );
    const pxedeck = await launch(['--iso', path]);
    try {
      const notice = await pxedeck.waitFor((event) => event.kind === 'notice' && /mydistro-1\.0\.iso → profile/.test(event.message), 'ISO notice', 5000);
      expect(notice).toMatchObject({ message: expect.stringMatching(/ISOLINUX menu \(isolinux\/menu\.cfg\), entry "live"/) });
      const cmdline = await bootAndReadCmdline(pxedeck, 'bios-ipxe', 'iso-generic', 90_000);
      expect(cmdline).toContain('root=live:CDLABEL=MYDISTRO');
    } finally {
      await pxedeck.stop();
    }
  }, 180_000);

  it.skipIf(signedChainMissing)('Debian live on a Secure Boot machine: shim → GRUB → the ISO\'s signed kernel and initrd over TFTP, fetch= names the squashfs on pxedeck', async () => {
    const path = iso(
      'debian-live-12.5.0-amd64-standard.iso',
      {
        '.disk/info': 'Debian GNU/Linux 12.5.0 "Bookworm" - Official Live amd64 standard\n',
        'live/vmlinuz-6.1.0-18-amd64': { copyOf: kernel },
        'live/initrd.img-6.1.0-18-amd64': { copyOf: initrd },
        'live/filesystem.squashfs': 'squashfs stands in here\n',
      },
      'd-live 12.5.0 st amd64',
    );
    const { lab } = shared;
    const mac = labMac(vmIndex++);
    const pxedeck = await startPxedeck(lab, { mode: 'dhcp', args: ['--iso', path, '--cmdline', markerCmdline('iso-sb')], clients: { [mac]: { uefiBootProgram: 'signed' } } });
    // Under Secure Boot on q35 the lab kernel needs more than the lab's usual 256 MB.
    const vm = await startVm({ lab, tap: await lab.addTap(), firmware: 'uefi-pxe-sb', mac, uuid: labUuid(), memoryMb: 512 });
    try {
      expect(await vm.waitForBoot(150_000)).toBe('iso-sb');
      expect(vm.serial()).toContain(`${secureBootMarker} enabled`);
      const cmdline = (await vm.waitForSerial(/PXEDECK-CMDLINE ([^\r\n]*)\r?\n/, 10_000))[1]!;
      expect(/fetch=(\S+)/.exec(cmdline)?.[1]).toBe('http://10.77.0.1/iso/debian-live-12.5.0-amd64-standard/live/filesystem.squashfs');
      const files = pxedeck.events().flatMap((event) => (event.kind === 'transfer.done' && event.mac === mac && event.source === 'tftp' ? [event.file] : []));
      expect(files).toEqual(expect.arrayContaining(['shimx64.efi', 'grubx64.efi', 'iso/debian-live-12.5.0-amd64-standard/live/vmlinuz-6.1.0-18-amd64', 'iso/debian-live-12.5.0-amd64-standard/live/initrd.img-6.1.0-18-amd64']));
      expect(await curl(['http://10.77.0.1/iso/debian-live-12.5.0-amd64-standard/live/filesystem.squashfs'])).toBe('squashfs stands in here\n');
    } catch (error) {
      const events = pxedeck.events().filter((event) => event.mac === mac).map((event) => JSON.stringify(event).slice(0, 300));
      throw new Error(`${(error as Error).message}\nserial:\n${vm.serial().slice(-1500)}\npxedeck events:\n${events.join('\n')}`);
    } finally {
      await vm.stop();
      await pxedeck.stop();
    }
  }, 220_000);

  it.skipIf(!existsSync(memtestIso))("Debian's memtest86+x64.iso (BIOS iPXE): its El Torito image boots as a kernel and memtest86+ runs", async () => {
    const pxedeck = await launch(['--iso', memtestIso, '--cmdline', 'console=ttyS0,115200']);
    const { lab } = shared;
    const mac = labMac(vmIndex++);
    const vm = await startVm({ lab, tap: await lab.addTap(), firmware: 'bios-ipxe', mac, uuid: labUuid() });
    try {
      await pxedeck.waitFor((event) => event.kind === 'transfer.done' && event.mac === mac && event.file === '/iso/memtest86-x64/boot/floppy.img', 'floppy.img from the ISO', 90_000);
      // memtest86+ draws its screen on the serial console: the banner, then the first test running.
      await vm.waitForSerial(/Memtest86\+ v\d[\s\S]*Status: Testing/, 90_000);
    } catch (error) {
      throw new Error(`${(error as Error).message}\nserial:\n${readFileSync(vm.serialLog, 'utf8').slice(-1500)}`);
    } finally {
      await vm.stop();
      await pxedeck.stop();
    }
  }, 200_000);
});

