// ISOs as profiles from a shell: an ISO dropped into DATA-DIR/isos/ can be assigned and explained by the
// name of its file; one that cannot be network-booted is refused with the reason; --iso's usage errors.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runCli } from '../support/cli-run.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIso, xorrisoMissing, type BuiltIso } from '../support/iso-builder.js';
import { parseCli } from '../../src/cli/args.js';

const run = runCli;

describe('--iso flags', () => {
  it('quick mode from an ISO; --cmdline adds arguments; --kernel and --initrd do not mix with it', () => {
    expect(parseCli(['--iso', 'x.iso', '--cmdline', 'console=ttyS0'])).toMatchObject({ iso: 'x.iso', cmdline: 'console=ttyS0' });
    expect(() => parseCli(['--iso', 'x.iso', '--kernel', 'vmlinuz'])).toThrow(/leave out --kernel and --initrd/);
    expect(() => parseCli(['--iso', 'vmlinuz'])).toThrow(/give the path of an \.iso file/);
  });
});

describe.skipIf(xorrisoMissing() !== undefined)('ISO profiles in pxedeck assign / explain', () => {
  let dir: string;
  let built: BuiltIso;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pxedeck-cli-iso-'));
    mkdirSync(join(dir, 'isos'));
    built = buildIso({ '.disk/info': 'Ubuntu-Server 24.04.1 LTS "Noble Numbat" - Release amd64', 'casper/vmlinuz': 'k', 'casper/initrd': 'i' });
    copyFileSync(built.path, join(dir, 'isos', 'ubuntu-24.04.1-live-server-amd64.iso'));
    writeFileSync(join(dir, 'isos', 'notes.iso'), 'not an image');
    writeFileSync(join(dir, 'settings.json'), JSON.stringify({ httpPort: 8080 }));
  });
  afterAll(() => {
    built?.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it('assigns the ISO by its file name and explains the script that boots it', async () => {
    expect(await run('assign', '52:54:00:aa:bb:01', 'ubuntu-24.04.1-live-server-amd64', '--data-dir', dir)).toMatchObject({ code: 0, stdout: '52:54:00:aa:bb:01: ubuntu-24.04.1-live-server-amd64\n' });
    const explained = await run('explain', '--mac', '52:54:00:aa:bb:01', '--arch', '7', '--user-class', 'iPXE', '--data-dir', dir);
    expect(explained.code).toBe(0);
    expect(explained.stdout).toContain('kernel http://0.0.0.0:8080/iso/ubuntu-24.04.1-live-server-amd64/casper/vmlinuz initrd=initrd ip=dhcp url=http://0.0.0.0:8080/iso/ubuntu-24.04.1-live-server-amd64.iso');
    expect(explained.stdout).toContain('initrd --name initrd http://0.0.0.0:8080/iso/ubuntu-24.04.1-live-server-amd64/casper/initrd');
  }, 30_000);

  it('an ISO that cannot boot is not a profile', async () => {
    expect(await run('assign', '52:54:00:aa:bb:02', 'notes', '--data-dir', dir)).toMatchObject({ code: 2, stderr: expect.stringMatching(/profile "notes" does not exist/) });
  }, 30_000);
});
