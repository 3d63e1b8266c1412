import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Mac } from '../../src/protocol/mac.js';
import { openAssignments } from '../../src/state/assignments.js';
import { parseProfile } from '../../src/boot/profile.js';
import { createBootPlanner, newNamedSources } from '../../src/state/boot-plans.js';
import { openClientPolicies } from '../../src/state/client-policies.js';
import { loadProfileLibrary } from '../../src/state/profile-library.js';
import { tempDirs } from '../support/temp-dirs.js';

const mac = '52:54:00:aa:00:01' as Mac;
const temp = tempDirs('pxedeck-plans-');
const library = loadProfileLibrary(resolve(import.meta.dirname, '../../presets'));

function planner(defaultTarget: Parameters<typeof createBootPlanner>[0]['defaultTarget'] = { kind: 'hold' }) {
  const dir = temp();
  const assignments = openAssignments(dir);
  const plans = createBootPlanner({
    serverBase: 'http://10.77.0.1:8080',
    library: () => library,
    assignments,
    policies: openClientPolicies(dir),
    defaultTarget,
  });
  return { dir, assignments, plans };
}

describe('boot plans', () => {
  it('holds an unknown machine, then boots what the operator assigns on its next poll', () => {
    const { assignments, plans } = planner();
    const held = plans.renderIpxe({ mac });
    expect(held.ok && held.text).toMatch(/is held.*\n:poll\nsleep 3\nchain --replace --autofree http:\/\/10\.77\.0\.1:8080\/ipxe\?mac=52%3A54%3A00%3Aaa%3A00%3A01&poll=1 \|\| goto poll/s);
    assignments.assign(mac, { kind: 'profile', profile: 'alpine' }, { variables: { hostname: 'node1' } });
    const next = plans.renderIpxe({ mac });
    expect(next.ok && next.text).toMatch(/^kernel http:\/\/10\.77\.0\.1:8080\/upstream\/[0-9a-f]{16}\/vmlinuz-lts initrd=initramfs-lts ip=dhcp .*hostname=node1/m);
  });

  it('release without a target boots the default menu instead of holding again', () => {
    const { assignments, plans } = planner();
    assignments.hold(mac);
    expect(plans.target(mac)).toEqual({ kind: 'hold' });
    assignments.release(mac);
    expect(plans.target(mac)).toEqual({ kind: 'menu', menu: 'default' });
  });

  it('boot once then local disk', () => {
    const { assignments, plans } = planner({ kind: 'local' });
    assignments.assign(mac, { kind: 'profile', profile: 'debian-installer' }, { once: true });
    expect(plans.target(mac)).toEqual({ kind: 'profile', profile: 'debian-installer' });
    assignments.consumeOnce(mac, 1234);
    expect(plans.target(mac)).toEqual({ kind: 'local' });
    const text = plans.renderIpxe({ mac });
    expect(text.ok && text.text).toMatch(/sanboot --no-describe --drive 0x80/);
  });

  it('an ignore assignment reaches the DHCP side as policy', () => {
    const { assignments, plans } = planner({ kind: 'local' });
    assignments.assign(mac, { kind: 'ignore' });
    expect(plans.dhcpPolicy(mac)).toMatchObject({ ignore: true });
  });

  it('resolves upstream ids to the URLs the library names', () => {
    const { plans } = planner();
    const url = plans.sourceUrl('https://example.org/images/vmlinuz');
    const id = /upstream\/([0-9a-f]{16})\//.exec(url)![1]!;
    expect(plans.upstreamUrl(id)).toBe('https://example.org/images/vmlinuz');
    expect(plans.sourceUrl('debian/linux')).toBe('http://10.77.0.1:8080/files/debian/linux');
  });

  it('renders pxelinux.cfg/01-<mac> per machine and leaves other paths alone', () => {
    const { assignments, plans } = planner({ kind: 'local' });
    expect(plans.renderPxelinux('pxelinux.cfg/01-52-54-00-aa-00-01', undefined, undefined)).toMatch(/LOCALBOOT 0/);
    assignments.assign(mac, { kind: 'profile', profile: 'alpine' });
    expect(plans.renderPxelinux('pxelinux.cfg/01-52-54-00-aa-00-01', undefined, undefined)).toMatch(/KERNEL ipxe\.lkrn\n  APPEND dhcp && chain http:\/\/10\.77\.0\.1:8080\/boot\.ipxe\n  IPAPPEND 2/);
    assignments.assign(mac, { kind: 'profile', profile: 'alpine' }, { pxelinux: 'direct' });
    expect(plans.renderPxelinux('pxelinux.cfg/C0A80001', mac, '192.168.0.1')).toMatch(/KERNEL http:\/\/10\.77\.0\.1:8080\/upstream\/[0-9a-f]+\/vmlinuz-lts\n  APPEND initrd=http/);
    expect(plans.renderPxelinux('undionly.kpxe', mac, undefined)).toBeNull();
  });

  it('picks up an assignment written by another process', async () => {
    const { dir, assignments } = planner();
    const seen: string[] = [];
    const stop = assignments.follow((changed) => seen.push(String(changed)));
    try {
      openAssignments(dir).assign(mac, { kind: 'profile', profile: 'memtest' });
      await expect.poll(() => assignments.get(mac)?.target, { timeout: 3000 }).toEqual({ kind: 'profile', profile: 'memtest' });
      expect(seen).toContain(mac);
    } finally {
      stop();
    }
  });

  it('debian-installer boots the upstream images by default, and local files where the operator points installer_images', () => {
    const { assignments, plans } = planner({ kind: 'local' });
    assignments.assign(mac, { kind: 'profile', profile: 'debian-installer' });
    const upstream = plans.renderIpxe({ mac });
    expect(upstream.ok && upstream.text).toMatch(/^kernel http:\/\/10\.77\.0\.1:8080\/upstream\/[0-9a-f]{16}\/linux initrd=initrd\.gz auto=true/m);
    const id = /upstream\/([0-9a-f]{16})\/linux/.exec(upstream.ok ? upstream.text : '')![1]!;
    expect(plans.upstreamUrl(id)).toBe('https://deb.debian.org/debian/dists/bookworm/main/installer-amd64/current/images/netboot/debian-installer/amd64/linux');

    const dir = '/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64';
    assignments.assign(mac, { kind: 'profile', profile: 'debian-installer' }, { variables: { installer_images: dir } });
    const local = plans.renderIpxe({ mac });
    const kernel = /^kernel http:\/\/10\.77\.0\.1:8080\/(local-[0-9a-f]{8}-linux) initrd=initrd\.gz auto=true/m.exec(local.ok ? local.text : '');
    const initrd = /^initrd --name initrd\.gz http:\/\/10\.77\.0\.1:8080\/(local-[0-9a-f]{8}-initrd\.gz) /m.exec(local.ok ? local.text : '');
    expect(kernel && initrd).toBeTruthy();
    // The names the script uses are the files the HTTP and TFTP servers serve.
    expect(plans.localFiles().get(kernel![1]!)).toEqual({ root: `${dir}/`, path: 'linux' });
    expect(plans.localFiles().get(initrd![1]!)).toEqual({ root: `${dir}/`, path: 'initrd.gz' });
    // PXELINUX direct names the same files over TFTP.
    assignments.assign(mac, { kind: 'profile', profile: 'debian-installer' }, { variables: { installer_images: dir }, pxelinux: 'direct' });
    expect(plans.renderPxelinux('pxelinux.cfg/01-52-54-00-aa-00-01', mac, undefined)).toMatch(/KERNEL local-[0-9a-f]{8}-linux\n  APPEND initrd=local-[0-9a-f]{8}-initrd\.gz auto=true/);
  });

  it('planners of one run share what they named: a file named by the IPv6 planner is served on IPv4 too', () => {
    const named = newNamedSources();
    const dir = temp();
    const assignments = openAssignments(dir);
    const options = { library: () => library, assignments, policies: openClientPolicies(dir), defaultTarget: { kind: 'local' } as const, named };
    const v4 = createBootPlanner({ ...options, serverBase: 'http://10.77.0.1' });
    const v6 = createBootPlanner({ ...options, serverBase: 'http://[fd77::1]' });
    const url = v6.sourceUrl('/srv/images/linux');
    expect(url).toMatch(/^http:\/\/\[fd77::1\]\/local-[0-9a-f]{8}-linux$/);
    expect(v4.localFiles().get(url.split('/').pop()!)).toEqual({ root: '/srv/images/', path: 'linux' });
  });

  it('a kernel or initrd may use only the profile\'s declared variables, and their defaults must be usable sources', () => {
    expect(parseProfile('ok', { kernel: '{{dir}}/linux', initrd: '{{dir}}/initrd.gz', variables: { dir: 'debian' } })).toMatchObject({ ok: true });
    const builtin = parseProfile('bad', { kernel: '{{hostname}}/linux', variables: {} });
    expect(builtin).toMatchObject({ ok: false, problems: [{ field: 'kernel', message: 'uses {{hostname}}, which the profile does not declare' }] });
    const outside = parseProfile('bad', { kernel: 'x', initrd: '{{dir}}/initrd.gz', variables: { dir: '' } });
    expect(outside).toMatchObject({ ok: false, problems: [{ field: 'initrd[0]', message: '"/initrd.gz" leaves the boot directory' }] });
  });
});

describe('a menu selection coming back (&profile=)', () => {
  it('boots the selection only when the machine is at a menu that offers it', () => {
    const { assignments, plans } = planner({ kind: 'menu', menu: 'default' });
    const chosen = plans.renderIpxe({ mac, profile: 'alpine' });
    expect(chosen.ok && chosen.text).toMatch(/^kernel .*vmlinuz-lts/m);
    expect(chosen.ok && chosen.note).toBeUndefined();

    const unlisted = plans.renderIpxe({ mac, profile: 'reboot' });
    expect(unlisted.ok && unlisted.text).toMatch(/^menu /m);
    expect(unlisted.ok && unlisted.note).toBe('menu selection "reboot" not used: menu "default" does not offer it');

    for (const [target, expected] of [
      [{ kind: 'hold' }, /is held/],
      [{ kind: 'local' }, /sanboot|exit/],
      [{ kind: 'ignore' }, /ignored/],
      [{ kind: 'profile', profile: 'memtest' }, /memtest/],
    ] as const) {
      assignments.assign(mac, target);
      const bypass = plans.renderIpxe({ mac, profile: 'alpine' });
      expect(bypass.ok && bypass.text, target.kind).toMatch(expected);
      expect(bypass.ok && bypass.text, target.kind).not.toMatch(/vmlinuz-lts/);
      expect(bypass.ok && bypass.note, target.kind).toMatch(/^menu selection "alpine" not used: this machine's target is \w+, not a menu$/);
    }
  });

  it('GRUB configs over TFTP: every name a network GRUB asks for, by the client\'s MAC or the one in the name; upstream sources as TFTP paths the cache answers', () => {
    const { assignments, plans } = planner({ kind: 'local' });
    assignments.assign(mac, { kind: 'profile', profile: 'alpine' }, {});
    for (const path of ['grub/grub.cfg', '/grub/grub.cfg', 'grub.cfg']) expect(plans.renderGrub(path, mac, '10.77.0.50')).toMatch(/^# pxedeck: Alpine/);
    for (const path of ['grub/grub.cfg-01-52-54-00-aa-00-01', 'grub.cfg-52:54:00:aa:00:01']) {
      const text = plans.renderGrub(path, undefined, undefined)!;
      const kernel = /if linux (\/upstream\/([0-9a-f]{16})\/vmlinuz-lts) /.exec(text);
      expect(kernel).not.toBeNull();
      // The TFTP path names the same cache entry the HTTP URL does.
      expect(plans.upstreamUrl(kernel![2]!)).toBe('https://dl-cdn.alpinelinux.org/alpine/v3.20/releases/x86_64/netboot/vmlinuz-lts');
      expect(text).toMatch(/source \/pxedeck\/booted-52-54-00-aa-00-01\n\}/);
    }
    expect(plans.renderGrub('grub/grub.cfg', undefined, undefined)).toBe('# pxedeck: which machine is this? asking again by MAC\nconfigfile /grub/grub.cfg-$net_default_mac\n');
    expect(plans.renderGrub('pxelinux.cfg/default', mac, undefined)).toBeNull();
    expect(plans.renderGrub('grub/x86_64-efi/command.lst', mac, undefined)).toBeNull();
  });

  it('an ISO profile: iPXE fetches its files over HTTP, PXELINUX and GRUB over TFTP, each from /iso/<id>/', () => {
    const dir = temp();
    const assignments = openAssignments(dir);
    const iso = { id: 'ubuntu-24.04', title: 'Ubuntu 24.04', kernel: 'iso:ubuntu-24.04/casper/vmlinuz', initrds: ['iso:ubuntu-24.04/casper/initrd'], cmdline: 'ip=dhcp url={{iso_url}}', variables: { iso_url: '{{server}}/iso/ubuntu-24.04.iso' } };
    const plans = createBootPlanner({ serverBase: 'http://10.77.0.1', library: () => ({ ...library, profiles: new Map([[iso.id, iso]]) }), assignments, policies: openClientPolicies(dir), defaultTarget: { kind: 'profile', profile: iso.id } });
    const script = plans.renderIpxe({ mac });
    expect(script.ok && script.text).toContain('kernel http://10.77.0.1/iso/ubuntu-24.04/casper/vmlinuz initrd=initrd ip=dhcp url=http://10.77.0.1/iso/ubuntu-24.04.iso');
    assignments.assign(mac, { kind: 'profile', profile: iso.id }, { pxelinux: 'direct' });
    const pxelinux = plans.renderPxelinux('pxelinux.cfg/01-52-54-00-aa-00-01', mac, undefined) ?? '';
    expect(pxelinux).toMatch(/KERNEL iso\/ubuntu-24\.04\/casper\/vmlinuz/);
    expect(pxelinux).toMatch(/initrd=iso\/ubuntu-24\.04\/casper\/initrd/);
    const grub = plans.renderGrub('grub/grub.cfg', mac, '10.77.0.100') ?? '';
    expect(grub).toContain('if linux /iso/ubuntu-24.04/casper/vmlinuz ip=dhcp url=http://10.77.0.1/iso/ubuntu-24.04.iso; then');
    expect(grub).toContain('if initrd /iso/ubuntu-24.04/casper/initrd; then');
  });
});
