/**
 * PXELINUX configs generated per machine (the Foreman chainboot guide in the seeds): chain to iPXE through
 * ipxe.lkrn (`dhcp && chain`, IPAPPEND 2), or boot the kernel from PXELINUX itself, or a PXELINUX menu.
 */
import { effectiveTarget, type Assignment, type BootTarget } from './boot-target.js';
import { expandVariables, type Profile, type Source } from './profile.js';
import { sourcesFor, variablesFor, type MachineContext, type RenderContext } from './render-context.js';
import type { RenderResult } from './ipxe-script.js';
import { oneLine } from './script-value.js';

export interface PxelinuxContext extends RenderContext {
  /** Local sources are fetched by path over TFTP; upstream ones need lpxelinux.0 (it speaks HTTP). */
  readonly tftpPath: (source: Source) => string;
}

function chainIpxe(context: PxelinuxContext, title = 'chain to iPXE'): string[] {
  return [
    'LABEL pxedeck',
    `  MENU LABEL ${oneLine(title)}`,
    '  KERNEL ipxe.lkrn',
    `  APPEND dhcp && chain ${context.serverBase}/boot.ipxe`,
    '  IPAPPEND 2',
  ];
}

function directLabel(label: string, title: string, profile: Profile, assignment: Assignment | undefined, machine: MachineContext, context: PxelinuxContext): string[] {
  const variables = variablesFor(profile, assignment, machine, context);
  const sources = sourcesFor(profile, variables);
  const initrds = sources.initrds.map((initrd) => oneLine(context.tftpPath(initrd))).join(',');
  const append = oneLine([initrds ? `initrd=${initrds}` : '', expandVariables(profile.cmdline, variables)].join(' '));
  return [`LABEL ${label}`, `  MENU LABEL ${oneLine(title)}`, `  KERNEL ${oneLine(context.tftpPath(sources.kernel!))}`, `  APPEND ${append}`, '  IPAPPEND 2'];
}

function header(machine: MachineContext, fallback: string, timeoutTenths = 0, menu?: string): string[] {
  const lines = [`# pxedeck: generated for ${machine.mac}`];
  if (menu) lines.push('UI menu.c32', `MENU TITLE ${oneLine(menu)}`);
  lines.push(`DEFAULT ${fallback}`, `PROMPT 0`, `TIMEOUT ${timeoutTenths}`);
  return lines;
}

/** A profile PXELINUX can boot itself: a kernel, not a raw iPXE script. */
function directlyBootable(profile: Profile | undefined): profile is Profile & { kernel: string } {
  return profile !== undefined && profile.kernel !== undefined && profile.script === undefined;
}

export function renderPxelinuxConfig(
  assignment: Assignment | undefined,
  fallback: BootTarget,
  machine: MachineContext,
  context: PxelinuxContext,
): RenderResult {
  const target = effectiveTarget(assignment, fallback);
  const direct = assignment?.pxelinux === 'direct';
  const done = (lines: string[]): RenderResult => ({ ok: true, text: `${lines.join('\n')}\n` });
  switch (target.kind) {
    case 'local':
    case 'ignore':
      return done([...header(machine, 'local'), 'LABEL local', '  MENU LABEL boot from the local disk', '  LOCALBOOT 0']);
    case 'profile': {
      const profile = context.profiles.get(target.profile);
      if (!profile) return { ok: false, status: 404, message: `profile "${target.profile}" does not exist` };
      if (direct && directlyBootable(profile)) return done([...header(machine, 'pxedeck'), ...directLabel('pxedeck', profile.title, profile, assignment, machine, context)]);
      return done([...header(machine, 'pxedeck'), ...chainIpxe(context, `${profile.title} (through iPXE)`)]);
    }
    case 'inline': {
      const profile: Profile = { id: 'inline', title: 'direct kernel', kernel: target.kernel, initrds: target.initrds, cmdline: target.cmdline, variables: {} };
      if (direct) return done([...header(machine, 'pxedeck'), ...directLabel('pxedeck', profile.title, profile, assignment, machine, context)]);
      return done([...header(machine, 'pxedeck'), ...chainIpxe(context)]);
    }
    case 'menu': {
      const menu = context.menus.get(target.menu);
      if (!menu) return { ok: false, status: 404, message: `menu "${target.menu}" does not exist` };
      const lines: string[] = [];
      for (const item of menu.items) {
        const profile = context.profiles.get(item.profile);
        if (!profile) return { ok: false, status: 500, message: `menu "${menu.id}" lists unknown profile ${item.profile}` };
        const label = item.profile.replace(/[^A-Za-z0-9_-]/g, '_');
        if (directlyBootable(profile)) lines.push(...directLabel(label, item.label ?? profile.title, profile, assignment, machine, context));
        else lines.push(...chainIpxe(context, item.label ?? profile.title).map((line) => line.replace('LABEL pxedeck', `LABEL ${label}`)));
      }
      const chosen = (menu.default ?? menu.items[0]!.profile).replace(/[^A-Za-z0-9_-]/g, '_');
      return done([...header(machine, chosen, menu.timeoutSeconds * 10, menu.title), ...lines]);
    }
    case 'hold':
    case 'script':
      // PXELINUX cannot poll or run iPXE text: iPXE takes over and asks us again.
      return done([...header(machine, 'pxedeck'), ...chainIpxe(context)]);
  }
}
