// Layout recognition over snapshots made here (what the catalog would read from each kind of ISO).
import { describe, expect, it } from 'vitest';
import { isoProfile } from '../../../src/boot/iso/iso-profile.js';
import type { IsoRecognition } from '../../../src/boot/iso/plan.js';
import { recognizeIso } from '../../../src/boot/iso/recognize.js';
import { isProbedText, PROBED_DIRECTORIES, type IsoSnapshot, type SnapshotBootImage, type SnapshotEntry } from '../../../src/boot/iso/snapshot.js';
import { renderIpxeScript } from '../../../src/boot/ipxe-script.js';
import type { Mac } from '../../../src/protocol/mac.js';

const GIB = 2 ** 30;

/** `files`: path → text (a config) or a size (anything else). Directories come from the paths. */
function snapshot(files: Record<string, string | number>, extra: Partial<IsoSnapshot> = {}): IsoSnapshot {
  const directories = new Map<string, SnapshotEntry[]>();
  const texts = new Map<string, string>();
  const add = (directory: string, entry: SnapshotEntry) => {
    if (!PROBED_DIRECTORIES.includes(directory.toLowerCase())) return;
    const list = directories.get(directory.toLowerCase()) ?? [];
    if (!list.some((item) => item.name === entry.name)) list.push(entry);
    directories.set(directory.toLowerCase(), list);
  };
  for (const [path, content] of Object.entries(files)) {
    const parts = path.split('/');
    for (let depth = 1; depth < parts.length; depth++) add(parts.slice(0, depth - 1).join('/'), { name: parts[depth - 1]!, kind: 'directory', size: 2048 });
    const directory = parts.slice(0, -1).join('/');
    add(directory, { name: parts[parts.length - 1]!, kind: 'file', size: typeof content === 'number' ? content : content.length });
    if (typeof content === 'string' && isProbedText(directory.toLowerCase(), parts[parts.length - 1]!)) texts.set(path.toLowerCase(), content);
  }
  return { fileName: 'test.iso', volumeId: 'TEST', size: GIB, truncated: false, hasUdf: false, directories, texts, bootImages: [], ...extra };
}

const env = { bootFiles: new Set<string>() };
const plan = (result: IsoRecognition) => {
  if (!result.ok) throw new Error(`not recognised: ${result.reason}`);
  return result.plan;
};

describe('ISO layouts', () => {
  it('Ubuntu casper: url= the ISO, ip=dhcp; distribution and version from .disk/info', () => {
    const result = plan(recognizeIso(snapshot({ '.disk/info': 'Ubuntu 24.04.1 LTS "Noble Numbat" - Release amd64 (20240827)', 'casper/vmlinuz': 14e6, 'casper/initrd': 70e6, 'boot/grub/grub.cfg': 'menuentry x {\n linux /casper/vmlinuz ---\n}' }), env));
    expect(result).toMatchObject({ layout: 'ubuntu-casper', distribution: 'Ubuntu', version: '24.04.1 LTS' });
    expect(result.bios).toEqual({ kind: 'kernel', kernel: 'casper/vmlinuz', initrds: [{ path: 'casper/initrd' }], cmdline: 'ip=dhcp url={{iso_url}} cloud-config-url=/dev/null {{extra_args}}' });
    expect(result.notes.join(' ')).toMatch(/RAM/);
  });

  it('Fedora netinst: inst.stage2= the tree; a DVD (with a repository) uses inst.repo=', () => {
    const treeinfo = '[header]\ntype = productmd.treeinfo\n[release]\nname = Fedora\nversion = 40\n[general]\nfamily = Fedora\n';
    const netinst = plan(recognizeIso(snapshot({ '.treeinfo': treeinfo, 'images/pxeboot/vmlinuz': 1, 'images/pxeboot/initrd.img': 1, 'images/install.img': 9e8 }), env));
    expect(netinst).toMatchObject({ layout: 'anaconda', distribution: 'Fedora', version: '40', bios: { cmdline: 'inst.stage2={{tree_url}} ip=dhcp {{extra_args}}' } });
    const dvd = plan(recognizeIso(snapshot({ '.treeinfo': '[general]\nfamily = Rocky Linux\nversion = 9.4\n', 'images/pxeboot/vmlinuz': 1, 'images/pxeboot/initrd.img': 1, 'BaseOS/repodata/x': 1 }), env));
    expect(dvd).toMatchObject({ distribution: 'Rocky Linux', version: '9.4', bios: { cmdline: 'inst.repo={{tree_url}} ip=dhcp {{extra_args}}' } });
  });

  it('Debian live: fetch= its squashfs; the netinst installer says why it cannot', () => {
    const live = plan(recognizeIso(snapshot({ '.disk/info': 'Debian GNU/Linux 12.5.0 "Bookworm" - Official Live amd64', 'live/vmlinuz-6.1.0-18-amd64': 1, 'live/initrd.img-6.1.0-18-amd64': 1, 'live/filesystem.squashfs': 3e9 }), env));
    expect(live).toMatchObject({ layout: 'debian-live', distribution: 'Debian GNU/Linux', version: '12.5.0', bios: { kernel: 'live/vmlinuz-6.1.0-18-amd64', cmdline: expect.stringContaining('fetch={{tree_url}}/live/filesystem.squashfs') } });
    const netinst = recognizeIso(snapshot({ '.disk/info': 'Debian GNU/Linux 12.5.0 "Bookworm" - Official amd64 NETINST', 'install.amd/vmlinuz': 1, 'install.amd/initrd.gz': 1 }), env);
    expect(netinst).toMatchObject({ ok: false, distribution: 'Debian GNU/Linux', reason: expect.stringMatching(/looks for its image on a CD drive.*debian-installer profile/) });
  });

  it('Arch: microcode then initramfs, archiso_http_srv= the tree', () => {
    const arch = plan(recognizeIso(snapshot({ 'arch/version': '2024.06.01\n', 'arch/boot/x86_64/vmlinuz-linux': 1, 'arch/boot/x86_64/initramfs-linux.img': 1, 'arch/boot/intel-ucode.img': 1, 'arch/boot/amd-ucode.img': 1 }), env));
    expect(arch).toMatchObject({ layout: 'arch', version: '2024.06.01' });
    expect(arch.bios).toMatchObject({ initrds: [{ path: 'arch/boot/intel-ucode.img' }, { path: 'arch/boot/amd-ucode.img' }, { path: 'arch/boot/x86_64/initramfs-linux.img' }], cmdline: expect.stringContaining('archiso_http_srv={{tree_url}}/') });
  });

  it('Alpine: modloop= and alpine_repo= on the tree, for its kernel flavour', () => {
    const alpine = plan(recognizeIso(snapshot({ '.alpine-release': 'alpine-virt-3.20.0 240522\n', 'boot/vmlinuz-virt': 1, 'boot/initramfs-virt': 1, 'boot/modloop-virt': 1, 'apks/x': 1 }), env));
    expect(alpine).toMatchObject({ layout: 'alpine', version: '3.20.0', bios: { kernel: 'boot/vmlinuz-virt', cmdline: expect.stringContaining('modloop={{tree_url}}/boot/modloop-virt alpine_repo={{tree_url}}/apks') } });
  });

  it('Proxmox VE: the whole ISO as a named initrd; rendered as a script', () => {
    const pve = plan(recognizeIso(snapshot({ 'boot/linux26': 1, 'boot/initrd.img': 1 }, { fileName: 'proxmox-ve_8.2-1.iso' }), env));
    expect(pve).toMatchObject({ layout: 'proxmox', version: '8.2-1', bios: { initrds: [{ path: 'boot/initrd.img' }, { wholeImage: true, name: 'proxmox.iso' }] } });
    const profile = isoProfile({ id: 'proxmox-ve_8.2-1', fileName: 'proxmox-ve_8.2-1.iso', plan: pve });
    expect(profile.script).toContain('initrd --name proxmox.iso {{iso_url}} || goto failed');
  });

  it('Windows PE: wimboot when it is in the boot directory, where to get it when not; UDF-only install media say why', () => {
    const files = { bootmgr: 1, 'boot/bcd': 1, 'boot/boot.sdi': 1, 'sources/boot.wim': 5e8, 'efi/boot/bootx64.efi': 1, 'efi/microsoft/boot/bcd': 1 };
    expect(recognizeIso(snapshot(files), env)).toMatchObject({ ok: false, reason: expect.stringMatching(/wimboot.*https:\/\/ipxe\.org\/wimboot/) });
    const windows = plan(recognizeIso(snapshot(files), { bootFiles: new Set(['wimboot']) }));
    expect(windows.bios).toMatchObject({ kind: 'wimboot', files: [{ name: 'bootmgr' }, { name: 'BCD', path: 'boot/bcd' }, { name: 'boot.sdi' }, { name: 'boot.wim' }] });
    expect(windows.efi).toMatchObject({ kind: 'wimboot', files: [{ name: 'bootx64.efi' }, { name: 'BCD', path: 'efi/microsoft/boot/bcd' }, { name: 'boot.sdi' }, { name: 'boot.wim' }] });
    const install = recognizeIso(snapshot({ 'README.TXT': 'This disc contains a "UDF" file system and requires an operating system that supports the ISO-13346 "UDF" file system specification.' }, { hasUdf: true }), env);
    expect(install).toMatchObject({ ok: false, reason: expect.stringMatching(/UDF file system only/) });
  });

  it('anything else: the ISOLINUX menu (default label, INCLUDE, initrd= in APPEND), with CD-only arguments noted', () => {
    const result = plan(
      recognizeIso(
        snapshot({
          'isolinux/isolinux.cfg': 'UI vesamenu.c32\nINCLUDE menu.cfg\nDEFAULT live\n',
          'isolinux/menu.cfg': 'LABEL hdt\n  KERNEL hdt.c32\nLABEL live\n  MENU LABEL Live\n  KERNEL /boot/kernel\n  APPEND initrd=/boot/initrd.gz root=live:CDLABEL=MYDISTRO quiet\n',
        }),
        env,
      ),
    );
    expect(result).toMatchObject({ layout: 'boot-menu', bios: { kernel: 'boot/kernel', initrds: [{ path: 'boot/initrd.gz' }], cmdline: 'root=live:CDLABEL=MYDISTRO quiet {{extra_args}}' } });
    expect(result.notes.join(' ')).toMatch(/names the CD \(root=live:CDLABEL=MYDISTRO\)/);
  });

  it('a GRUB menu: set default= by index, linuxefi/initrdefi, nested braces', () => {
    const grub = 'set default="1"\nmenuentry \'First\' {\n  if true; then\n    echo x\n  fi\n  linux /k1 a=1\n}\nmenuentry "Second" --class os {\n  linuxefi /k2 b=2\n  initrdefi /i2a /i2b\n}\n';
    expect(plan(recognizeIso(snapshot({ 'boot/grub/grub.cfg': grub }), env)).bios).toEqual({ kind: 'kernel', kernel: 'k2', initrds: [{ path: 'i2a' }, { path: 'i2b' }], cmdline: 'b=2 {{extra_args}}' });
  });

  it("memtest86+'s ISO: its BIOS El Torito image is a Linux kernel, UEFI runs the image's EFI program", () => {
    const bootImages: SnapshotBootImage[] = [
      { platform: 'bios', emulation: 'floppy-1.44M', path: 'boot/floppy.img', isLinuxKernel: true },
      { platform: 'efi', emulation: 'none', isLinuxKernel: false },
    ];
    const memtest = plan(recognizeIso(snapshot({ 'boot/floppy.img': 1474560, 'EFI/BOOT/bootx64.efi': 145408 }, { bootImages, size: 6e6 }), env));
    expect(memtest).toMatchObject({ layout: 'el-torito', bios: { kind: 'kernel', kernel: 'boot/floppy.img' }, efi: { kind: 'chain', path: 'efi/boot/bootx64.efi' } });
  });

  it('a small BIOS-only image with no menu: sanboot, its limits said; a big one cannot', () => {
    const bootImages: SnapshotBootImage[] = [{ platform: 'bios', emulation: 'none', isLinuxKernel: false }];
    const small = plan(recognizeIso(snapshot({ 'FDOS/x': 1 }, { bootImages, size: 50e6 }), env));
    expect(small).toMatchObject({ layout: 'sanboot', bios: { kind: 'sanboot' } });
    expect(small.notes.join(' ')).toMatch(/not for systems that load their own disk drivers/);
    expect(recognizeIso(snapshot({ 'x/y': 1 }, { bootImages, size: 2 * GIB }), env)).toMatchObject({ ok: false, reason: expect.stringMatching(/no boot image pxedeck can load/) });
  });

  it('no boot image at all, and a truncated download, say so', () => {
    expect(recognizeIso(snapshot({ 'docs/readme.txt': 1 }), env)).toMatchObject({ ok: false, reason: expect.stringMatching(/not bootable/) });
    expect(recognizeIso(snapshot({ 'casper/vmlinuz': 1 }, { truncated: true }), env)).toMatchObject({ ok: false, reason: expect.stringMatching(/interrupted download/) });
  });
});

describe('an ISO as a profile', () => {
  const machine = { mac: '52:54:00:00:00:01' as Mac };
  const context = { serverBase: 'http://10.0.0.1', sourceUrl: (source: string) => `http://10.0.0.1/${source.replace(/^iso:([^/]+)\//, 'iso/$1/')}`, profiles: new Map(), menus: new Map() };

  it('one kernel for both firmware kinds: a kernel profile whose command line names the ISO URL', () => {
    const result = plan(recognizeIso(snapshot({ '.disk/info': 'Ubuntu 24.04 LTS', 'casper/vmlinuz': 1, 'casper/initrd': 1 }), env));
    const profile = isoProfile({ id: 'ubuntu-24.04', fileName: 'ubuntu-24.04.iso', plan: result });
    expect(profile).toMatchObject({ id: 'ubuntu-24.04', title: 'Ubuntu 24.04 LTS (ubuntu-24.04.iso)', kernel: 'iso:ubuntu-24.04/casper/vmlinuz', initrds: ['iso:ubuntu-24.04/casper/initrd'] });
    const script = renderIpxeScript({ target: { kind: 'profile', profile: profile.id } }, { kind: 'local' }, machine, { ...context, profiles: new Map([[profile.id, profile]]) });
    expect(script.ok && script.text).toContain('kernel http://10.0.0.1/iso/ubuntu-24.04/casper/vmlinuz initrd=initrd ip=dhcp url=http://10.0.0.1/iso/ubuntu-24.04.iso cloud-config-url=/dev/null');
  });

  it('different methods per firmware: an iPXE script branching on ${platform}', () => {
    const bootImages: SnapshotBootImage[] = [{ platform: 'bios', emulation: 'floppy-1.44M', path: 'boot/floppy.img', isLinuxKernel: true }];
    const result = plan(recognizeIso(snapshot({ 'boot/floppy.img': 1474560, 'EFI/BOOT/BOOTX64.EFI': 1 }, { bootImages, size: 6e6 }), env));
    const profile = { ...isoProfile({ id: 'memtest', fileName: 'memtest.iso', plan: result }), variables: { iso_url: '{{server}}/iso/memtest.iso', tree_url: '{{server}}/iso/memtest', extra_args: 'console=ttyS0,115200' } };
    const script = renderIpxeScript({ target: { kind: 'profile', profile: 'memtest' } }, { kind: 'local' }, machine, { ...context, profiles: new Map([['memtest', profile]]) });
    const text = script.ok ? script.text : '';
    expect(text).toContain('iseq ${platform} efi && goto efi ||');
    expect(text).toContain('kernel http://10.0.0.1/iso/memtest/boot/floppy.img console=ttyS0,115200 || goto failed');
    expect(text).toContain('chain http://10.0.0.1/iso/memtest/efi/boot/BOOTX64.EFI console=ttyS0,115200 || goto failed');
  });
});
