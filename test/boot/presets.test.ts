// Every shipped preset and menu, rendered for one fixed machine, against a reviewed golden file.
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Assignment, BootTarget } from '../../src/boot/boot-target.js';
import { grubBootable, renderGrubConfig, type GrubContext } from '../../src/boot/grub-config.js';
import { renderIpxeScript } from '../../src/boot/ipxe-script.js';
import { renderPxelinuxConfig, type PxelinuxContext } from '../../src/boot/pxelinux-config.js';
import type { MachineContext } from '../../src/boot/render-context.js';
import type { Mac } from '../../src/protocol/mac.js';
import { loadProfileLibrary } from '../../src/state/profile-library.js';

const library = loadProfileLibrary(resolve(import.meta.dirname, '../../presets'));
const machine: MachineContext = { mac: '52:54:00:12:34:56' as Mac, ip: '10.77.0.100', uuid: '8d9b1c2a-3f4e-5d6c-7b8a-99aabbccddee', arch: 'x86_64', platform: 'pcbios' };
const sourceUrl = (source: string) =>
  /^https?:/.test(source) ? `http://10.77.0.1/upstream/${encodeURIComponent(source.split('/').pop()!)}` : `http://10.77.0.1/files/${source}`;
const context: PxelinuxContext = {
  serverBase: 'http://10.77.0.1',
  sourceUrl,
  // PXELINUX reads local files over TFTP; upstream ones come through pxedeck's HTTP cache (lpxelinux.0).
  tftpPath: (source) => (/^https?:/.test(source) ? sourceUrl(source) : source),
  profiles: library.profiles,
  menus: library.menus,
  syslogServer: '10.77.0.1',
};
const grubContext: GrubContext = {
  ...context,
  // Signed GRUB reads everything over TFTP: local files by path, upstream ones through pxedeck's cache.
  grubPath: (source) => (/^https?:/.test(source) ? `/upstream/${encodeURIComponent(source.split('/').pop()!)}` : `/${source}`),
  configPath: '/grub/grub.cfg',
  beaconPath: '/pxedeck/booted-52-54-00-12-34-56',
};
const assignment: Assignment = { target: { kind: 'local' }, variables: { hostname: 'rack1-node07', extra_args: 'quiet' } };
const golden = (name: string) => resolve(import.meta.dirname, 'golden', name);

describe('shipped presets', () => {
  it('all load without problems', () => {
    expect(library.problems).toEqual([]);
    expect([...library.profiles.keys()]).toEqual(
      expect.arrayContaining(['debian-installer', 'ubuntu-installer', 'fedora-kickstart', 'rocky-kickstart', 'flatcar', 'alpine', 'memtest', 'netboot-xyz', 'local-disk', 'ipxe-shell', 'multi-nic-menu', 'windows-pe']),
    );
  });

  for (const id of [...library.profiles.keys()]) {
    it(`renders ${id} as its golden iPXE script`, async () => {
      const result = renderIpxeScript({ ...assignment, target: { kind: 'profile', profile: id } }, { kind: 'local' }, machine, context);
      expect(result.ok).toBe(true);
      if (result.ok) await expect(result.text).toMatchFileSnapshot(golden(`${id}.ipxe`));
    });
  }

  for (const id of [...library.profiles.keys()].filter((id) => grubBootable(library.profiles.get(id)))) {
    it(`renders ${id} as its golden GRUB config (the Secure Boot chain)`, async () => {
      const result = renderGrubConfig({ ...assignment, target: { kind: 'profile', profile: id } }, { kind: 'local' }, machine, grubContext);
      expect(result.ok).toBe(true);
      if (result.ok) await expect(result.text).toMatchFileSnapshot(golden(`${id}.grub`));
    });
  }

  for (const id of [...library.menus.keys()]) {
    it(`renders menu ${id} for GRUB: kernel profiles only, the local disk standing in for a default GRUB cannot run`, async () => {
      const target: BootTarget = { kind: 'menu', menu: id };
      const grub = renderGrubConfig({ ...assignment, target }, target, machine, grubContext);
      expect(grub.ok).toBe(true);
      if (grub.ok) await expect(grub.text).toMatchFileSnapshot(golden(`menu-${id}.grub`));
    });
  }

  for (const id of [...library.menus.keys()]) {
    it(`renders menu ${id} for iPXE and for PXELINUX`, async () => {
      const target: BootTarget = { kind: 'menu', menu: id };
      const ipxe = renderIpxeScript({ ...assignment, target }, target, machine, context);
      const pxelinux = renderPxelinuxConfig({ ...assignment, target }, target, machine, context);
      expect(ipxe.ok && pxelinux.ok).toBe(true);
      if (ipxe.ok) await expect(ipxe.text).toMatchFileSnapshot(golden(`menu-${id}.ipxe`));
      if (pxelinux.ok) await expect(pxelinux.text).toMatchFileSnapshot(golden(`menu-${id}.pxelinux`));
    });
  }
});
