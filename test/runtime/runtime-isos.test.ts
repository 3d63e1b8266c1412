// Quick mode's --iso in the runtime: the default target is that ISO's profile (also through a link to it),
// --cmdline becomes its extra_args, and an ISO that cannot boot stops the start with the reason.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRuntimeIsos } from '../../src/runtime/runtime-isos.js';
import { StartupError } from '../../src/runtime/operator-error.js';
import type { ProfileLibrary } from '../../src/state/profile-library.js';
import { buildIso, xorrisoMissing, type BuiltIso } from '../support/iso-builder.js';

const empty: ProfileLibrary = { profiles: new Map(), menus: new Map(), problems: [] };
const cli = (iso: string, cmdline?: string) => ({ iso, headless: true, force: false, help: false, ...(cmdline !== undefined && { cmdline }) });

describe.skipIf(xorrisoMissing() !== undefined)('--iso in the runtime', () => {
  let dir: string;
  let built: BuiltIso;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pxedeck-runtime-iso-'));
    mkdirSync(join(dir, 'boot'));
    built = buildIso({ 'arch/version': '2024.06.01\n', 'arch/boot/x86_64/vmlinuz-linux': 'k', 'arch/boot/x86_64/initramfs-linux.img': 'i' });
    symlinkSync(built.path, join(dir, 'archlinux-x86_64.iso'));
    writeFileSync(join(dir, 'empty.iso'), Buffer.alloc(100_000));
  });
  afterAll(() => {
    built?.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it('names the profile of the ISO, found through a link, with --cmdline as its extra_args', async () => {
    const notices: string[] = [];
    const isos = await openRuntimeIsos({ cli: cli(join(dir, 'archlinux-x86_64.iso'), 'console=ttyS0'), dataDir: dir, bootDir: join(dir, 'boot'), base: empty, notice: (_level, message) => notices.push(message) });
    try {
      expect(isos.quickTarget).toEqual({ kind: 'profile', profile: 'archlinux-x86_64' });
      const profile = isos.library.merge(empty).profiles.get('archlinux-x86_64');
      expect(profile).toMatchObject({ title: 'Arch Linux 2024.06.01 (archlinux-x86_64.iso)', variables: { extra_args: 'console=ttyS0' } });
      expect(notices).toEqual([expect.stringMatching(/^ISO archlinux-x86_64\.iso → profile archlinux-x86_64: Arch Linux 2024\.06\.01 \(archiso\)/)]);
    } finally {
      await isos.library.close();
    }
  });

  it('refuses to start with an ISO that cannot boot, saying why', async () => {
    const started = openRuntimeIsos({ cli: cli(join(dir, 'empty.iso')), dataDir: dir, bootDir: join(dir, 'boot'), base: empty, notice: () => undefined });
    await expect(started).rejects.toBeInstanceOf(StartupError);
    await expect(started).rejects.toThrow(/--iso .*empty\.iso: empty\.iso cannot be network-booted: cannot be read as an ISO 9660 image: no ISO 9660 volume descriptor/);
  });
});
