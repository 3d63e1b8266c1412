/**
 * The one-shot subcommands: `pxedeck assign` records what a machine boots (a running pxedeck picks it
 * up), `pxedeck explain` dry-runs what a machine gets at each stage right now.
 */
import { parseArgs } from 'node:util';
import type { BootTarget } from '../boot/boot-target.js';
import { readClientFacts } from '../boot/client-facts.js';
import { decideDhcpBoot } from '../boot/dhcp-decision.js';
import { MessageType, Option } from '../protocol/dhcp4/constants.js';
import { describeOptions } from '../protocol/dhcp4/describe.js';
import { encodeClientArch, encodeUserClass } from '../protocol/dhcp4/options.js';
import { blankPacket } from '../protocol/dhcp4/packet.js';
import { macToBytes, macToPxelinuxName, parseMac, type Mac } from '../protocol/mac.js';
import { buildReply } from '../servers/dhcp4/reply.js';
import type { AssignmentStore } from '../state/assignments.js';
import { uefiChoiceText, withUefiBootProgram, type ClientPolicyStore } from '../state/client-policies.js';
import type { BootPlanner } from '../state/boot-plans.js';
import type { ProfileLibrary } from '../state/profile-library.js';
import { UsageError } from './args.js';

export const assignUsage = `Usage:
  pxedeck assign MAC PROFILE [--once] [--hostname NAME] [--extra-args "..."] [--var NAME=VALUE ...] [--pxelinux-direct]
  pxedeck assign MAC --menu MENU
  pxedeck assign MAC --kernel FILE|URL [--initrd FILE|URL ...] [--cmdline "..."] [--once]
  pxedeck assign MAC --hold | --release | --local | --ignore | --clear
  pxedeck assign MAC --uefi signed|ipxe|default   what x64 UEFI starts (signed: shim → GRUB, for Secure Boot)
`;

function requireMac(text: string | undefined): Mac {
  const mac = text ? parseMac(text) : null;
  if (!mac) throw new UsageError(`${text === undefined ? 'a MAC address is missing' : `"${text}" is not a MAC address`}; use the form 52:54:00:12:34:56`);
  return mac;
}

export function runAssign(argv: readonly string[], store: AssignmentStore, library: ProfileLibrary, policies?: ClientPolicyStore): string {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      once: { type: 'boolean' },
      menu: { type: 'string' },
      kernel: { type: 'string' },
      initrd: { type: 'string', multiple: true },
      cmdline: { type: 'string' },
      hostname: { type: 'string' },
      'extra-args': { type: 'string' },
      var: { type: 'string', multiple: true },
      'pxelinux-direct': { type: 'boolean' },
      hold: { type: 'boolean' },
      release: { type: 'boolean' },
      local: { type: 'boolean' },
      ignore: { type: 'boolean' },
      clear: { type: 'boolean' },
      uefi: { type: 'string' },
    },
  });
  const mac = requireMac(positionals[0]);
  if (values.uefi !== undefined) {
    const choice = values.uefi;
    if (choice !== 'signed' && choice !== 'ipxe' && choice !== 'default') throw new UsageError(`--uefi ${choice}: use signed (shim → signed GRUB), ipxe or default`);
    if (!policies) throw new UsageError('--uefi needs the data dir');
    policies.set(mac, withUefiBootProgram(policies.get(mac), choice));
    if (positionals.length < 2 && !values.menu && !values.kernel && !values.local && !values.ignore && !values.hold && !values.release && !values.clear) return `${mac}: ${uefiChoiceText[choice]}`;
  }
  if (values.hold) return `${mac}: held (${store.hold(mac).target ? 'keeps its assignment for later' : 'no assignment yet'})`;
  if (values.release) {
    store.release(mac);
    return `${mac}: released`;
  }
  if (values.clear) {
    store.update(mac, () => undefined);
    return `${mac}: assignment removed; it follows the default for unknown machines`;
  }
  const variables: Record<string, string> = {};
  for (const pair of values.var ?? []) {
    const match = /^([a-z_][a-z0-9_]*)=(.*)$/s.exec(pair);
    if (!match) throw new UsageError(`--var ${pair}: use NAME=VALUE with a lower-case name`);
    variables[match[1]!] = match[2]!;
  }
  if (values.hostname) variables.hostname = values.hostname;
  if (values['extra-args']) variables.extra_args = values['extra-args'];

  let target: BootTarget;
  if (values.local) target = { kind: 'local' };
  else if (values.ignore) target = { kind: 'ignore' };
  else if (values.menu) {
    if (!library.menus.has(values.menu)) throw new UsageError(`menu "${values.menu}" does not exist; menus: ${[...library.menus.keys()].join(', ')}`);
    target = { kind: 'menu', menu: values.menu };
  } else if (values.kernel) target = { kind: 'inline', kernel: values.kernel, initrds: values.initrd ?? [], cmdline: values.cmdline ?? '' };
  else {
    const profile = positionals[1];
    if (!profile) throw new UsageError(`say what ${mac} boots: a profile, --menu, --kernel, --local, --hold…\n${assignUsage}`);
    if (!library.profiles.has(profile)) throw new UsageError(`profile "${profile}" does not exist; profiles: ${[...library.profiles.keys()].join(', ')}`);
    target = { kind: 'profile', profile };
  }
  store.assign(mac, target, {
    ...(values.once && { once: true }),
    variables,
    ...(values['pxelinux-direct'] && { pxelinux: 'direct' as const }),
  });
  return `${mac}: ${target.kind === 'profile' ? target.profile : target.kind === 'menu' ? `menu ${target.menu}` : target.kind}${values.once ? ', once, then the local disk' : ''}`;
}

export interface ExplainInput {
  readonly planner: BootPlanner;
  readonly serverAddress: string;
  readonly mode: 'proxy' | 'dhcp';
  readonly serverBase: string;
  readonly binaries: ReadonlySet<string>;
}

export function runExplain(argv: readonly string[], input: ExplainInput): string {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: { mac: { type: 'string' }, arch: { type: 'string', default: '0' }, 'user-class': { type: 'string' } },
  });
  const mac = requireMac(values.mac);
  const arch = Number(values.arch);
  if (!Number.isInteger(arch) || arch < 0 || arch > 0xffff) throw new UsageError(`--arch ${values.arch}: use the option 93 number (0 BIOS, 7 UEFI x64, 11 ARM64, 16 HTTP boot)`);
  const isIpxe = values['user-class'] === 'iPXE';
  const request = blankPacket({
    chaddr: Buffer.concat([macToBytes(mac), Buffer.alloc(10)]),
    options: new Map([
      [Option.MESSAGE_TYPE, Buffer.from([MessageType.DISCOVER])],
      [Option.VENDOR_CLASS, Buffer.from(`${arch === 16 || arch === 19 ? 'HTTPClient' : 'PXEClient'}:Arch:${String(arch).padStart(5, '0')}:UNDI:003001`)],
      [Option.CLIENT_ARCH, encodeClientArch([arch])],
      ...(values['user-class'] ? ([[Option.USER_CLASS, encodeUserClass({ form: 'raw', classes: [values['user-class']] })]] as const) : []),
    ]),
  });
  const facts = readClientFacts(request);
  const decision = decideDhcpBoot({
    facts,
    policy: input.planner.dhcpPolicy(mac),
    history: {},
    now: Date.now(),
    scriptUrl: `${input.serverBase}/boot.ipxe`,
    httpUrl: (file) => `${input.serverBase}/${file}`,
    binaries: input.binaries,
  });
  const lines = [`${mac}, arch ${arch}${isIpxe ? ', iPXE' : ''}: target ${JSON.stringify(input.planner.target(mac))}`, ''];
  lines.push(`DHCP (${input.mode === 'dhcp' ? 'full DHCP' : 'proxyDHCP'}): ${decision.reason}`);
  if (decision.action === 'boot') {
    const reply = buildReply({ request, facts, messageType: 'OFFER', serverAddress: input.serverAddress, decision });
    for (const [name, value] of Object.entries(describeOptions(reply.options))) lines.push(`  ${name} = ${JSON.stringify(value)}`);
    lines.push(`  siaddr = ${reply.siaddr}, file = ${JSON.stringify(reply.file)}`);
    if (decision.transport === 'tftp') lines.push('', `TFTP: ${decision.bootFile}`);
    if (decision.bootFile === 'pxelinux.0') {
      lines.push('', `PXELINUX: pxelinux.cfg/${macToPxelinuxName(mac)}`, input.planner.renderPxelinux(`pxelinux.cfg/${macToPxelinuxName(mac)}`, mac, undefined) ?? '');
    }
  }
  const script = input.planner.renderIpxe({ mac });
  lines.push('', 'iPXE script (GET /ipxe):', script.ok ? script.text : `error ${script.status}: ${script.message}`);
  return lines.join('\n');
}
