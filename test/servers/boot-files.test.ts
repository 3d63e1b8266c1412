import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { packageBootFiles, scanBootFiles } from '../../src/servers/boot-files.js';

describe('boot file catalog', () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'pxedeck-boot-files-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('serves single package files by name (first existing path), never their neighbours; the boot directory wins', () => {
    const packageBoot = tempDir();
    for (const name of ['memtest86+x64.bin', 'vmlinuz-6.1.0-amd64', 'config-6.1.0-amd64']) writeFileSync(join(packageBoot, name), name);
    const ipxeDir = tempDir();
    writeFileSync(join(ipxeDir, 'undionly.kpxe'), 'package');
    const named = { 'memtest86+x64.bin': ['/nonexistent/memtest86+x64.bin', join(packageBoot, 'memtest86+x64.bin')], 'memtest86+x64.efi': [join(packageBoot, 'absent.efi')] };
    const catalog = scanBootFiles(undefined, [ipxeDir], named);
    expect([...catalog.names].sort()).toEqual(['memtest86+x64.bin', 'undionly.kpxe']);
    expect(catalog.files.get('memtest86+x64.bin')).toEqual({ root: packageBoot, path: 'memtest86+x64.bin' });

    const bootDir = tempDir();
    mkdirSync(join(bootDir, 'sub'));
    writeFileSync(join(bootDir, 'memtest86+x64.bin'), 'operator copy');
    expect(scanBootFiles(bootDir, [ipxeDir], named).files.get('memtest86+x64.bin')).toEqual({ root: bootDir, path: 'memtest86+x64.bin' });
  });

  it('names memtest86+ from the Debian package, which installs into /boot', () => {
    expect(packageBootFiles['memtest86+x64.bin']).toEqual(['/boot/memtest86+x64.bin']);
    expect(packageBootFiles['memtest86+x64.efi']).toEqual(['/boot/memtest86+x64.efi']);
    expect(packageBootFiles['shimx64.efi']).toEqual(['/usr/lib/shim/shimx64.efi.signed']);
  });
});
