/**
 * GRUB configs generated per machine, for the Secure Boot chain (firmware → shim → signed GRUB → signed
 * kernel): the same profiles, menus, hold and local boot as iPXE scripts and PXELINUX configs, in GRUB's
 * shell. Debian's signed GRUB has no HTTP module (and cannot load one under Secure Boot), so everything it
 * reads comes by TFTP from the server it booted from: `context.grubPath` names each source's TFTP path.
 */
import { effectiveTarget, type Assignment, type BootTarget } from './boot-target.js';
import { expandVariables, type Profile, type Source } from './profile.js';
import { sourcesFor, variablesFor, type MachineContext, type RenderContext } from './render-context.js';
import type { RenderResult } from './ipxe-script.js';
import { grubWord, oneLine } from './script-value.js';

/** Seconds between re-reads of a held machine's config, as for iPXE's poll. */
export const GRUB_HOLD_POLL_SECONDS = 3;

/** Tries of each `linux`/`initrd` load: an upstream file the cache is still fetching answers a little later. */
export const GRUB_LOAD_TRIES = 6;

/**
 * One thing GRUB boots, general enough for any caller (a profile, an ISO's loader): a kernel with initrds
 * and its command line, or an EFI program GRUB hands over to (shim verifies it). Paths are as GRUB reads
 * them: `/name` on the TFTP server GRUB came from, or a full `(tftp,host)/name` / `(http,host)/name`.
 */
export type GrubBoot =
  | { readonly kind: 'linux'; readonly kernel: string; readonly initrds: readonly string[]; readonly args: string }
  | { readonly kind: 'chainload'; readonly program: string };

export interface GrubContext extends RenderContext {
  /** The path GRUB reads a profile's source from (a local path, a quick-mode file, an upstream URL). */
  readonly grubPath: (source: Source) => string;
  /** This machine's config as GRUB fetched it, re-read by the hold loop (`/grub/grub.cfg`). */
  readonly configPath: string;
  /** Fetched right before booting: tells pxedeck the machine booted (the `/booted` beacon of iPXE). */
  readonly beaconPath: string;
}

/** A kernel command line as GRUB words: each one quoted so `&`, `;` or `$` in a URL reach the kernel as written. */
function grubArgs(cmdline: string): string {
  return oneLine(cmdline)
    .split(/\s+/)
    .filter((word) => word.length > 0)
    .map(grubWord)
    .join(' ');
}

/** `load` tried GRUB_LOAD_TRIES times, 5 s apart, then the failure stays on screen. */
function retried(load: string, what: string): string[] {
  return [
    `  for pxedeck_try in ${Array.from({ length: GRUB_LOAD_TRIES }, (_, index) => index + 1).join(' ')}; do`,
    `    if ${load}; then break; fi`,
    `    echo ${grubWord(`pxedeck: ${what} did not load, trying again in 5 seconds`)}`,
    '    sleep 5',
    '  done',
  ];
}

/** One menu entry: what GRUB runs when it is chosen (or is the default and the timeout runs out). */
export function grubEntry(id: string, title: string, boot: GrubBoot, beaconPath: string): string[] {
  const lines = [`menuentry ${grubWord(title)} --id ${grubWord(id)} {`, `  echo ${grubWord(`pxedeck: ${title}`)}`];
  if (boot.kind === 'linux') {
    lines.push(...retried(`linux ${grubWord(boot.kernel)}${boot.args ? ` ${boot.args}` : ''}`, 'the kernel'));
    if (boot.initrds.length > 0) lines.push(...retried(`initrd ${boot.initrds.map(grubWord).join(' ')}`, 'the initrd'));
  } else {
    lines.push(...retried(`chainloader ${grubWord(boot.program)}`, 'the EFI program'));
  }
  // The beacon's failure never stops the boot: GRUB goes on to boot what it loaded.
  lines.push(`  source ${grubWord(beaconPath)}`, '}');
  return lines;
}

function header(machine: MachineContext, what: string): string[] {
  return [`# pxedeck: ${oneLine(what)} for ${machine.mac}`, 'set pxedeck_held=0'];
}

function localEntry(): string[] {
  // On UEFI, leaving GRUB returns to the firmware, which goes on to its next boot entry (the local disk).
  return ["menuentry 'Boot from the local disk' --id local {", "  echo 'pxedeck: booting from the local disk'", '  exit', '}'];
}

function profileBoot(profile: Profile, assignment: Assignment | undefined, machine: MachineContext, context: GrubContext): GrubBoot {
  const variables = variablesFor(profile, assignment, machine, context);
  const sources = sourcesFor(profile, variables);
  return {
    kind: 'linux',
    kernel: context.grubPath(sources.kernel!),
    initrds: sources.initrds.map((initrd) => context.grubPath(initrd)),
    args: grubArgs(expandVariables(profile.cmdline, variables)),
  };
}

/** A profile GRUB can boot: a kernel. Raw iPXE scripts (netboot.xyz, wimboot, the iPXE shell) cannot run here. */
export function grubBootable(profile: Profile | undefined): profile is Profile & { kernel: string } {
  return profile !== undefined && profile.kernel !== undefined && profile.script === undefined;
}

function single(machine: MachineContext, what: string, entry: string[]): string[] {
  return [...header(machine, what), 'set timeout=0', 'set default=0', ...entry];
}

function notForGrub(profile: Profile, machine: MachineContext): string[] {
  return [
    ...header(machine, profile.title),
    `echo ${grubWord(`pxedeck: "${profile.title}" is an iPXE script, which GRUB (the Secure Boot chain) cannot run`)}`,
    "echo 'pxedeck: assign this machine a kernel profile, or boot it through iPXE with Secure Boot off'",
    'sleep 10',
    'set timeout=0',
    'set default=local',
    ...localEntry(),
  ];
}

export function holdConfig(machine: MachineContext, context: GrubContext): string[] {
  // Re-reading the config inside the loop: a released machine's config sets pxedeck_held=0 (ending the
  // loop) and defines its entries; a held one skips this block, so the loops never nest.
  return [
    `# pxedeck: ${machine.mac} is held until the operator assigns it`,
    'set pxedeck_held=1',
    'if [ "$pxedeck_polling" != 1 ]; then',
    '  set pxedeck_polling=1',
    `  echo ${grubWord(`pxedeck: ${machine.mac} is held; waiting for the operator to assign it...`)}`,
    '  while [ "$pxedeck_held" = 1 ]; do',
    `    sleep ${GRUB_HOLD_POLL_SECONDS}`,
    `    source ${grubWord(context.configPath)}`,
    '  done',
    'fi',
  ];
}

function menuConfig(menuId: string, assignment: Assignment | undefined, machine: MachineContext, context: GrubContext): RenderResult {
  const menu = context.menus.get(menuId);
  if (!menu) return { ok: false, status: 404, message: `menu "${menuId}" does not exist` };
  const missing = menu.items.filter((item) => !context.profiles.has(item.profile)).map((item) => item.profile);
  if (missing.length) return { ok: false, status: 500, message: `menu "${menuId}" lists unknown profiles: ${missing.join(', ')}` };
  const entries: string[] = [];
  const listed = new Set<string>();
  for (const item of menu.items) {
    const profile = context.profiles.get(item.profile)!;
    // GRUB cannot run iPXE scripts: those items are left out, and the local-disk entry closes every menu.
    if (!grubBootable(profile)) continue;
    listed.add(item.profile);
    entries.push(...grubEntry(item.profile, item.label ?? profile.title, profileBoot(profile, assignment, machine, context), context.beaconPath));
  }
  const wanted = menu.default ?? menu.items[0]!.profile;
  const fallback = listed.has(wanted) ? wanted : 'local';
  // GRUB waits forever with -1; pxedeck's 0 means the same (as PXELINUX's TIMEOUT 0).
  const timeout = menu.timeoutSeconds > 0 ? menu.timeoutSeconds : -1;
  const lines = [...header(machine, `menu ${menu.id}`), `set timeout=${timeout}`, `set default=${grubWord(fallback)}`, ...entries, ...localEntry()];
  return { ok: true, text: `${lines.join('\n')}\n` };
}

export function renderGrubConfig(assignment: Assignment | undefined, fallback: BootTarget, machine: MachineContext, context: GrubContext): RenderResult {
  const target = effectiveTarget(assignment, fallback);
  const done = (lines: string[]): RenderResult => ({ ok: true, text: `${lines.join('\n')}\n` });
  switch (target.kind) {
    case 'local':
    case 'ignore':
      return done([...header(machine, 'boot from the local disk'), 'set timeout=0', 'set default=local', ...localEntry()]);
    case 'hold':
      return done(holdConfig(machine, context));
    case 'profile': {
      const profile = context.profiles.get(target.profile);
      if (!profile) return { ok: false, status: 404, message: `profile "${target.profile}" does not exist` };
      if (!grubBootable(profile)) return done(notForGrub(profile, machine));
      return done(single(machine, profile.title, grubEntry(profile.id, profile.title, profileBoot(profile, assignment, machine, context), context.beaconPath)));
    }
    case 'inline': {
      const profile: Profile = { id: 'inline', title: 'direct kernel', kernel: target.kernel, initrds: target.initrds, cmdline: target.cmdline, variables: {} };
      return done(single(machine, profile.title, grubEntry('inline', profile.title, profileBoot(profile, assignment, machine, context), context.beaconPath)));
    }
    case 'menu':
      return menuConfig(target.menu, assignment, machine, context);
    case 'script':
      return done(notForGrub({ id: 'external', title: 'external script', initrds: [], cmdline: '', script: target.script, variables: {} }, machine));
  }
}

/**
 * Config names a network GRUB asks for: Debian's reads `<prefix>/grub.cfg` (prefix `/grub`); others first
 * try `grub.cfg-01-<mac>` and `grub.cfg-<address in hex>`, as PXELINUX does. `suffix` is what follows
 * `grub.cfg-` (a MAC in any spelling when it names one); null when the path is not a GRUB config.
 */
export function grubConfigName(path: string): { readonly suffix?: string } | null {
  const match = /^\/?(?:grub\/)?grub\.cfg(?:-(.+))?$/.exec(path);
  if (!match) return null;
  return match[1] === undefined ? {} : { suffix: match[1] };
}

/**
 * For a GRUB whose MAC pxedeck cannot tell from its address: it asks again under a name that carries its
 * MAC (`$net_default_mac`, colon-separated), which pxedeck reads back.
 */
export function unknownMachineGrubConfig(configPath: string): string {
  const dir = configPath.slice(0, configPath.lastIndexOf('/') + 1);
  return ['# pxedeck: which machine is this? asking again by MAC', `configfile ${dir}grub.cfg-$net_default_mac`, ''].join('\n');
}
