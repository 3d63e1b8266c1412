// GRUB configs for the Secure Boot chain: every target kind, and values that GRUB's shell would otherwise read as syntax.
import { describe, expect, it } from 'vitest';
import type { Assignment, BootTarget } from '../../src/boot/boot-target.js';
import { grubEntry, renderGrubConfig, type GrubContext } from '../../src/boot/grub-config.js';
import type { Menu, Profile } from '../../src/boot/profile.js';
import type { MachineContext } from '../../src/boot/render-context.js';
import { grubWord } from '../../src/boot/script-value.js';
import type { Mac } from '../../src/protocol/mac.js';

const profile = (id: string, fields: Partial<Profile>): Profile => ({ id, title: id, initrds: [], cmdline: '', variables: {}, ...fields });
const profiles = new Map<string, Profile>([
  ['lab', profile('lab', { title: 'Lab kernel', kernel: 'lab/vmlinuz', initrds: ['lab/initrd.gz'], cmdline: 'console=ttyS0 hostname={{hostname}} {{extra_args}}' })],
  ['shell', profile('shell', { title: 'iPXE shell', script: '#!ipxe\nshell\n' })],
  ['remote', profile('remote', { kernel: 'https://mirror.example/linux', initrds: ['https://mirror.example/initrd.gz'], cmdline: 'url=http://x/a?b=1&c=2' })],
]);
const menus = new Map<string, Menu>([
  ['pick', { id: 'pick', title: 'Pick', items: [{ profile: 'shell' }, { profile: 'lab', label: 'The lab' }, { profile: 'remote' }], default: 'lab', timeoutSeconds: 5 }],
  ['scripts-default', { id: 'scripts-default', title: 'S', items: [{ profile: 'lab' }, { profile: 'shell' }], default: 'shell', timeoutSeconds: 0 }],
]);
const context: GrubContext = {
  serverBase: 'http://10.77.0.1',
  sourceUrl: (source) => `http://10.77.0.1/files/${source}`,
  grubPath: (source) => (source.startsWith('http') ? `/upstream/0123/${source.split('/').pop()}` : `/${source}`),
  configPath: '/grub/grub.cfg',
  beaconPath: '/pxedeck/booted-52-54-00-00-0a-01',
  profiles,
  menus,
};
const machine: MachineContext = { mac: '52:54:00:00:0a:01' as Mac, ip: '10.77.0.101' };
const render = (assignment: Assignment | undefined, fallback: BootTarget = { kind: 'local' }) => {
  const result = renderGrubConfig(assignment, fallback, machine, context);
  if (!result.ok) throw new Error(result.message);
  return result.text;
};

describe('GRUB config per machine', () => {
  it.each<[string, Assignment | undefined, BootTarget, RegExp[]]>([
    ['unknown machine, default local: leaves GRUB for the next boot entry', undefined, { kind: 'local' }, [/set default=local/, /menuentry 'Boot from the local disk' --id local \{\n {2}echo [^\n]+\n {2}exit\n\}/]],
    ['a kernel profile boots at once, over TFTP, with the beacon last', { target: { kind: 'profile', profile: 'lab' } }, { kind: 'local' }, [/set timeout=0/, /if linux \/lab\/vmlinuz console=ttyS0 hostname=pxe-52-54-00-00-0a-01; then break; fi/, /if initrd \/lab\/initrd\.gz; then break; fi/, /source \/pxedeck\/booted-52-54-00-00-0a-01\n\}/]],
    ['a used once-assignment boots locally', { target: { kind: 'profile', profile: 'lab' }, once: true, consumedAt: 5 }, { kind: 'local' }, [/--id local/]],
    ['an upstream source comes through the cache over TFTP; & stays inside one quoted word', { target: { kind: 'profile', profile: 'remote' } }, { kind: 'local' }, [/linux \/upstream\/0123\/linux 'url=http:\/\/x\/a\?b=1&c=2'/, /initrd \/upstream\/0123\/initrd\.gz/]],
    ['an iPXE script profile says why it cannot run, then boots locally', { target: { kind: 'profile', profile: 'shell' } }, { kind: 'local' }, [/echo 'pxedeck: "iPXE shell" is an iPXE script, which GRUB \(the Secure Boot chain\) cannot run'/, /set default=local/]],
    ['a direct kernel (quick mode, assign --kernel)', { target: { kind: 'inline', kernel: '/srv/k', initrds: ['/srv/i'], cmdline: 'quiet' } }, { kind: 'local' }, [/linux \/\/srv\/k quiet/]],
    ['hold: re-reads its own config every 3 s until released, never nesting', undefined, { kind: 'hold' }, [/set pxedeck_held=1/, /if \[ "\$pxedeck_polling" != 1 \]; then/, /while \[ "\$pxedeck_held" = 1 \]; do\n {4}sleep 3\n {4}source \/grub\/grub\.cfg\n {2}done/]],
    ['a menu: kernel entries with their labels, the timeout, the default by id', { target: { kind: 'menu', menu: 'pick' } }, { kind: 'local' }, [/set timeout=5\nset default=lab\n/, /menuentry 'The lab' --id lab \{/, /menuentry remote --id remote \{/]],
    ['a menu whose default is an iPXE script: the local disk stands in; timeout 0 waits forever', { target: { kind: 'menu', menu: 'scripts-default' } }, { kind: 'local' }, [/set timeout=-1\nset default=local\n/]],
  ])('%s', (_name, assignment, fallback, patterns) => {
    const text = render(assignment, fallback);
    for (const pattern of patterns) expect(text).toMatch(pattern);
    // Every config but the hold one ends any hold loop it is sourced into.
    if (fallback.kind !== 'hold') expect(text).toMatch(/^set pxedeck_held=0$/m);
  });

  it('script profiles are left out of GRUB menus', () => {
    expect(render({ target: { kind: 'menu', menu: 'pick' } })).not.toMatch(/shell/);
  });

  it('a missing profile or menu is an error naming it', () => {
    expect(renderGrubConfig({ target: { kind: 'profile', profile: 'nope' } }, { kind: 'local' }, machine, context)).toMatchObject({ ok: false, status: 404, message: 'profile "nope" does not exist' });
    expect(renderGrubConfig({ target: { kind: 'menu', menu: 'nope' } }, { kind: 'local' }, machine, context)).toMatchObject({ ok: false, status: 404 });
  });

  it('hostile values stay one word: no command GRUB would run, no line break', () => {
    const hostile = "x'; reboot; echo '$(y)\n{ halt }";
    const text = render({ target: { kind: 'profile', profile: 'lab' }, variables: { hostname: hostile, extra_args: 'a;b $c {d} #e' } });
    expect(text).toContain(`'hostname=x'\\'';' 'reboot;' echo ''\\''$(y)' '{' halt '}'`);
    expect(text).toContain("'a;b' '$c' '{d}' '#e'");
    // Nothing after the linux line's words escapes the quoting: each quote-delimited run closes on the same line.
    const linux = text.split('\n').find((line) => line.includes('if linux'))!;
    expect(linux.split("'").length % 2).toBe(1);
    expect(text.split('\n').filter((line) => /^\s*(reboot|halt)\b/.test(line))).toEqual([]);
  });

  it('grubWord: bare when plain, single-quoted with each quote escaped otherwise', () => {
    expect(grubWord('console=ttyS0,115200')).toBe('console=ttyS0,115200');
    expect(grubWord("it's")).toBe("'it'\\''s'");
    expect(grubWord('a\nb')).toBe("'a b'");
    expect(grubWord('$x')).toBe("'$x'");
  });

  it('grubEntry chainloads an EFI program (an ISO loader) just as generally', () => {
    expect(grubEntry('iso', 'An ISO', { kind: 'chainload', program: '(tftp,10.77.0.1)/iso/EFI/BOOT/BOOTX64.EFI' }, '/b').join('\n')).toMatch(/if chainloader '\(tftp,10\.77\.0\.1\)\/iso\/EFI\/BOOT\/BOOTX64\.EFI'; then break; fi/);
  });
});
