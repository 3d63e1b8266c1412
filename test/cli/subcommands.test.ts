// `pxedeck assign` and `pxedeck explain` as a person types them: real processes, a temp data dir, no sockets.
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runCli } from '../support/cli-run.js';
import { tempDirs } from '../support/temp-dirs.js';
import { describe, expect, it } from 'vitest';

const run = runCli;
const temp = tempDirs('pxedeck-cli-');

describe('pxedeck assign / explain', () => {
  it('records a profile with variables, once, and the running console would read it from assignments.json', async () => {
    const dir = temp();
    const result = await run('assign', '52-54-00-AA-BB-CC', 'debian-installer', '--once', '--hostname', 'node7', '--var', 'domain=lab', '--data-dir', dir);
    expect(result).toMatchObject({ code: 0, stdout: '52:54:00:aa:bb:cc: debian-installer, once, then the local disk\n' });
    expect(JSON.parse(readFileSync(join(dir, 'assignments.json'), 'utf8'))['52:54:00:aa:bb:cc']).toMatchObject({
      target: { kind: 'profile', profile: 'debian-installer' },
      once: true,
      variables: { hostname: 'node7', domain: 'lab' },
    });
  }, 30_000);

  it('--uefi sets what x64 UEFI starts, and replaces what the Secure Boot self-repair remembered', async () => {
    const dir = temp();
    writeFileSync(join(dir, 'clients.json'), JSON.stringify({ '52:54:00:aa:bb:cc': { uefiBootProgram: 'signed', secureBootLearnedAt: 1, blksizeCap: 1024 } }));
    expect(await run('assign', '52:54:00:aa:bb:cc', '--uefi', 'ipxe', '--data-dir', dir)).toMatchObject({ code: 0, stdout: '52:54:00:aa:bb:cc: x64 UEFI boots iPXE (no Secure Boot self-repair)\n' });
    expect(JSON.parse(readFileSync(join(dir, 'clients.json'), 'utf8'))['52:54:00:aa:bb:cc']).toEqual({ uefiBootProgram: 'ipxe', blksizeCap: 1024 });
    expect(await run('assign', '52:54:00:aa:bb:cc', '--uefi', 'grub', '--data-dir', dir)).toMatchObject({ code: 2, stderr: expect.stringMatching(/--uefi grub: use signed/) });
  }, 30_000);

  it('refuses unknown profiles and bad MACs with the fix, exit 2', async () => {
    const dir = temp();
    expect(await run('assign', '52:54:00:aa:bb:cc', 'debain', '--data-dir', dir)).toMatchObject({ code: 2, stderr: expect.stringMatching(/profile "debain" does not exist; profiles: .*debian-installer/) });
    expect(await run('assign', 'nope', 'alpine', '--data-dir', dir)).toMatchObject({ code: 2, stderr: expect.stringMatching(/"nope" is not a MAC address; use the form/) });
  }, 30_000);

  it('explains each stage: the DHCP reply, the TFTP file, the script', async () => {
    const dir = temp();
    writeFileSync(join(dir, 'settings.json'), JSON.stringify({ httpPort: 8080 }));
    await run('assign', '52:54:00:aa:bb:cd', 'alpine', '--data-dir', dir);
    const bios = await run('explain', '--mac', '52:54:00:aa:bb:cd', '--arch', '0', '--data-dir', dir);
    expect(bios.code).toBe(0);
    expect(bios.stdout).toMatch(/DHCP \(proxyDHCP\): PXE firmware: arch 0 \(x86 BIOS\) gets undionly\.kpxe over TFTP/);
    expect(bios.stdout).toMatch(/67:bootfile-name = "undionly\.kpxe"/);
    expect(bios.stdout).toMatch(/TFTP: undionly\.kpxe/);
    expect(bios.stdout).toMatch(/kernel http:\/\/0\.0\.0\.0:8080\/upstream\/[0-9a-f]{16}\/vmlinuz-lts/);
    const ipxe = await run('explain', '--mac', '52:54:00:aa:bb:cd', '--arch', '7', '--user-class', 'iPXE', '--data-dir', dir);
    expect(ipxe.stdout).toMatch(/67:bootfile-name = "http:\/\/0\.0\.0\.0:8080\/boot\.ipxe"/);
    expect(ipxe.stdout).toMatch(/175:ipxe/);
  }, 30_000);
});
