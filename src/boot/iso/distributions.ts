/**
 * The layouts that matter, each booted the way its distribution boots from the network: the kernel and
 * initrd from the image, and the parameter that points the installer or live system at pxedeck's copy
 * of the image ({{iso_url}}) or of its tree ({{tree_url}}). A recogniser returns undefined when the image
 * is not its layout.
 */
import type { IsoRecognition } from './plan.js';
import { entryAt, filesMatching, firstFile, hasFile, listing, textAt, type IsoSnapshot } from './snapshot.js';

export interface RecognitionEnvironment {
  /** Boot files on hand (boot directory and package paths): wimboot is looked for here. */
  readonly bootFiles: ReadonlySet<string>;
}

export type Recogniser = (snapshot: IsoSnapshot, environment: RecognitionEnvironment) => IsoRecognition | undefined;

const GIB = 2 ** 30;
const gib = (bytes: number) => `${(bytes / GIB).toFixed(1)} GiB`;

/** "Ubuntu-Server 24.04.1 LTS "Noble Numbat" - Release amd64 (20240827.1)" → Ubuntu-Server, 24.04.1 LTS. */
export function parseDiskInfo(text: string | undefined): { distribution?: string; version?: string } {
  const line = text?.split(/\r?\n/)[0]?.trim();
  if (!line) return {};
  const match = /^(.+?)\s+(\d+(?:\.\d+)*(?:\s+LTS)?)\b/.exec(line);
  return match ? { distribution: match[1]!, version: match[2]! } : { distribution: line.slice(0, 60) };
}

/** INI sections of a .treeinfo: section → key → value. */
export function parseTreeinfo(text: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const section = /^\[([^\]]+)\]$/.exec(line);
    if (section) sections.set(section[1]!.toLowerCase(), (current = new Map()));
    else if (current && /^[^#;].*=/.test(line)) {
      const cut = line.indexOf('=');
      current.set(line.slice(0, cut).trim().toLowerCase(), line.slice(cut + 1).trim());
    }
  }
  return sections;
}

const withExtra = (cmdline: string) => `${cmdline} {{extra_args}}`;

const ubuntuCasper: Recogniser = (snapshot) => {
  const kernel = firstFile(snapshot, ['casper/vmlinuz', 'casper/hwe-vmlinuz', 'casper/vmlinuz.efi']) ?? filesMatching(snapshot, 'casper', /^vmlinuz/i)[0];
  if (!kernel) return undefined;
  const info = parseDiskInfo(textAt(snapshot, '.disk/info'));
  const initrd = firstFile(snapshot, ['casper/initrd', 'casper/initrd.gz', 'casper/initrd.lz', 'casper/initrd.img', 'casper/hwe-initrd']) ?? filesMatching(snapshot, 'casper', /^initrd/i)[0];
  const distribution = info.distribution ?? 'Ubuntu (casper)';
  if (!initrd) return { ok: false, distribution, reason: `${kernel} is there but no casper/initrd*` };
  const method = { kind: 'kernel', kernel, initrds: [{ path: initrd }], cmdline: withExtra('ip=dhcp url={{iso_url}} cloud-config-url=/dev/null') } as const;
  return {
    ok: true,
    plan: {
      layout: 'ubuntu-casper',
      distribution,
      ...(info.version && { version: info.version }),
      bios: method,
      efi: method,
      summary: `${distribution}${info.version ? ` ${info.version}` : ''} (casper): ${kernel} with url= pointing at this ISO over HTTP`,
      notes: [`casper downloads the whole ISO into RAM: machines need more RAM than the ISO (${gib(snapshot.size)}) plus ~2 GiB`],
    },
  };
};

const anaconda: Recogniser = (snapshot) => {
  const treeinfo = textAt(snapshot, '.treeinfo');
  if (!treeinfo && !hasFile(snapshot, 'images/pxeboot/vmlinuz')) return undefined;
  const sections = parseTreeinfo(treeinfo ?? '');
  const distribution = sections.get('release')?.get('name') ?? sections.get('general')?.get('family') ?? 'Fedora/RHEL family';
  const version = sections.get('release')?.get('version') ?? sections.get('general')?.get('version');
  const kernel = firstFile(snapshot, ['images/pxeboot/vmlinuz']);
  const initrd = firstFile(snapshot, ['images/pxeboot/initrd.img']);
  if (!kernel || !initrd) return { ok: false, distribution, ...(version && { version }), reason: 'images/pxeboot/vmlinuz and initrd.img are not both on the image (not an x86_64 install image?)' };
  const root = listing(snapshot, '').map((entry) => entry.name.toLowerCase());
  const hasRepository = ['baseos', 'packages', 'repodata', 'appstream'].some((name) => root.includes(name));
  const parameter = hasRepository ? 'inst.repo' : 'inst.stage2';
  const method = { kind: 'kernel', kernel, initrds: [{ path: initrd }], cmdline: withExtra(`${parameter}={{tree_url}} ip=dhcp`) } as const;
  const installImage = entryAt(snapshot, 'images/install.img');
  return {
    ok: true,
    plan: {
      layout: 'anaconda',
      distribution,
      ...(version && { version }),
      bios: method,
      efi: method,
      summary: `${distribution}${version ? ` ${version}` : ''} (${hasRepository ? 'DVD' : 'netinst'}): images/pxeboot with ${parameter}= pointing at this ISO's tree over HTTP`,
      notes: [
        `anaconda loads images/install.img${installImage ? ` (${gib(installImage.size)})` : ''} into RAM`,
        ...(hasRepository ? ['packages come from the ISO'] : ['packages come from the distribution\'s mirrors: the machines need a route to them']),
      ],
    },
  };
};

const debianLive: Recogniser = (snapshot) => {
  const kernel = filesMatching(snapshot, 'live', /^vmlinuz/i)[0];
  const initrd = filesMatching(snapshot, 'live', /^initrd/i)[0];
  const squashfs = entryAt(snapshot, 'live/filesystem.squashfs');
  if (!kernel || !initrd || !squashfs) return undefined;
  const info = parseDiskInfo(textAt(snapshot, '.disk/info'));
  const distribution = info.distribution ?? 'Debian live';
  const method = { kind: 'kernel', kernel, initrds: [{ path: initrd }], cmdline: withExtra('boot=live components fetch={{tree_url}}/live/filesystem.squashfs ip=dhcp') } as const;
  return {
    ok: true,
    plan: {
      layout: 'debian-live',
      distribution,
      ...(info.version && { version: info.version }),
      bios: method,
      efi: method,
      summary: `${distribution}${info.version ? ` ${info.version}` : ''} (live-boot): ${kernel} with fetch= of live/filesystem.squashfs over HTTP`,
      notes: [`live-boot loads filesystem.squashfs (${gib(squashfs.size)}) into RAM`],
    },
  };
};

const debianInstaller: Recogniser = (snapshot) => {
  if (!hasFile(snapshot, 'install.amd/vmlinuz') && !hasFile(snapshot, 'install/vmlinuz')) return undefined;
  const info = parseDiskInfo(textAt(snapshot, '.disk/info'));
  return {
    ok: false,
    distribution: info.distribution ?? 'Debian installer',
    ...(info.version && { version: info.version }),
    reason:
      "the installer on this ISO (install.amd, the CD flavour) looks for its image on a CD drive and cannot use it over the network; boot Debian's netboot installer instead (the debian-installer profile), which installs the same release from a mirror",
  };
};

const arch: Recogniser = (snapshot) => {
  const kernel = firstFile(snapshot, ['arch/boot/x86_64/vmlinuz-linux']) ?? filesMatching(snapshot, 'arch/boot/x86_64', /^vmlinuz/i)[0];
  if (!kernel) return undefined;
  const initramfs = firstFile(snapshot, ['arch/boot/x86_64/initramfs-linux.img']) ?? filesMatching(snapshot, 'arch/boot/x86_64', /^initramfs/i)[0];
  const version = textAt(snapshot, 'arch/version')?.trim() || /^ARCH_(\d{6})/.exec(snapshot.volumeId)?.[1];
  if (!initramfs) return { ok: false, distribution: 'Arch Linux', reason: `${kernel} is there but no initramfs beside it` };
  const microcode = ['arch/boot/intel-ucode.img', 'arch/boot/amd-ucode.img'].flatMap((path) => firstFile(snapshot, [path]) ?? []);
  const method = {
    kind: 'kernel',
    kernel,
    initrds: [...microcode, initramfs].map((path) => ({ path })),
    cmdline: withExtra('archisobasedir=arch archiso_http_srv={{tree_url}}/ ip=dhcp'),
  } as const;
  return {
    ok: true,
    plan: {
      layout: 'arch',
      distribution: 'Arch Linux',
      ...(version && { version }),
      bios: method,
      efi: method,
      summary: `Arch Linux${version ? ` ${version}` : ''} (archiso): ${kernel} with archiso_http_srv= pointing at this ISO's tree`,
      notes: ['archiso copies airootfs.sfs into RAM over HTTP'],
    },
  };
};

const alpine: Recogniser = (snapshot) => {
  const kernel = filesMatching(snapshot, 'boot', /^vmlinuz-/i).find((path) => hasFile(snapshot, path.replace(/vmlinuz-/i, 'modloop-')));
  if (!kernel) return undefined;
  const flavour = kernel.slice(kernel.toLowerCase().lastIndexOf('vmlinuz-') + 8);
  const initrd = firstFile(snapshot, [`boot/initramfs-${flavour}`]);
  const release = textAt(snapshot, '.alpine-release');
  const version = /(\d+\.\d+(?:\.\d+)?)/.exec(release ?? snapshot.volumeId)?.[1];
  if (!initrd) return { ok: false, distribution: 'Alpine Linux', reason: `boot/initramfs-${flavour} is missing` };
  const method = {
    kind: 'kernel',
    kernel,
    initrds: [{ path: initrd }],
    cmdline: withExtra(`ip=dhcp modules=loop,squashfs modloop={{tree_url}}/boot/modloop-${flavour} alpine_repo={{tree_url}}/apks`),
  } as const;
  return {
    ok: true,
    plan: {
      layout: 'alpine',
      distribution: 'Alpine Linux',
      ...(version && { version }),
      bios: method,
      efi: method,
      summary: `Alpine Linux${version ? ` ${version}` : ''} (${flavour}): ${kernel} with modloop= and alpine_repo= on this ISO's tree`,
      notes: [],
    },
  };
};

const proxmox: Recogniser = (snapshot) => {
  if (!hasFile(snapshot, 'boot/linux26') || !hasFile(snapshot, 'boot/initrd.img')) return undefined;
  const version = /(\d+\.\d+(?:-\d+)?)/.exec(snapshot.fileName)?.[1];
  const method = {
    kind: 'kernel',
    kernel: firstFile(snapshot, ['boot/linux26'])!,
    initrds: [{ path: firstFile(snapshot, ['boot/initrd.img'])! }, { wholeImage: true, name: 'proxmox.iso' }],
    cmdline: withExtra('ramdisk_size=16777216 rw quiet splash=silent'),
  } as const;
  return {
    ok: true,
    plan: {
      layout: 'proxmox',
      distribution: 'Proxmox VE',
      ...(version && { version }),
      bios: method,
      efi: method,
      summary: `Proxmox VE${version ? ` ${version}` : ''}: boot/linux26 with the whole ISO handed over as /proxmox.iso in the initrd`,
      notes: [`the ISO travels into RAM as an initrd: machines need about twice its size (${gib(snapshot.size)}) in RAM`, 'not tested with a real Proxmox ISO'],
    },
  };
};

const windows: Recogniser = (snapshot, environment) => {
  const bootWim = firstFile(snapshot, ['sources/boot.wim']);
  const readme = textAt(snapshot, 'readme.txt') ?? '';
  const udfOnly = snapshot.hasUdf && !bootWim && (/UDF/i.test(readme) || listing(snapshot, '').length <= 2);
  if (udfOnly) {
    return {
      ok: false,
      distribution: 'Windows (UDF)',
      reason:
        "its files are in a UDF file system only (Windows install media), which pxedeck does not read yet; copy bootmgr, boot/bcd, boot/boot.sdi and sources/boot.wim into the boot directory and boot them with wimboot from a profile",
    };
  }
  if (!bootWim) return undefined;
  const bcd = firstFile(snapshot, ['boot/bcd']);
  const sdi = firstFile(snapshot, ['boot/boot.sdi']);
  if (!bcd || !sdi) return { ok: false, distribution: 'Windows PE', reason: 'sources/boot.wim is there but boot/bcd or boot/boot.sdi is not' };
  if (!environment.bootFiles.has('wimboot')) {
    return {
      ok: false,
      distribution: 'Windows PE',
      reason: 'Windows boots from the network through wimboot, which no Debian package ships: download wimboot from https://ipxe.org/wimboot into the boot directory',
    };
  }
  const bootmgr = firstFile(snapshot, ['bootmgr']);
  const bios = {
    kind: 'wimboot',
    files: [...(bootmgr ? [{ path: bootmgr, name: 'bootmgr' }] : []), { path: bcd, name: 'BCD' }, { path: sdi, name: 'boot.sdi' }, { path: bootWim, name: 'boot.wim' }],
  } as const;
  const efiLoader = firstFile(snapshot, ['efi/boot/bootx64.efi']);
  const efiBcd = firstFile(snapshot, ['efi/microsoft/boot/bcd']);
  const efi = efiLoader && efiBcd ? ({ kind: 'wimboot', files: [{ path: efiLoader, name: 'bootx64.efi' }, { path: efiBcd, name: 'BCD' }, { path: sdi, name: 'boot.sdi' }, { path: bootWim, name: 'boot.wim' }] } as const) : undefined;
  return {
    ok: true,
    plan: {
      layout: 'windows',
      distribution: 'Windows PE',
      bios,
      ...(efi && { efi }),
      summary: `Windows PE: wimboot with sources/boot.wim from this ISO${efi ? '' : ' (BIOS only: no EFI boot manager on the image)'}`,
      notes: ['setup from this ISO needs the rest of the ISO shared with it separately (e.g. an SMB share); not tested with a real Windows image'],
    },
  };
};

/** In order: the first recogniser that claims the image decides. */
export const DISTRIBUTION_RECOGNISERS: readonly Recogniser[] = [windows, ubuntuCasper, anaconda, arch, alpine, proxmox, debianLive, debianInstaller];
