/**
 * Renders the iPXE script a machine gets when it asks: a profile's kernel and initrds, a menu, the hold
 * loop, local boot. The text is generated per request from the machine's assignment; nothing is cached.
 */
import { effectiveTarget, type Assignment, type BootTarget } from './boot-target.js';
import { expandVariables, type Profile, type Source } from './profile.js';
import { machineQuery, sourcesFor, variablesFor, type MachineContext, type RenderContext } from './render-context.js';
import { oneLine } from './script-value.js';

export type RenderResult =
  /** `note`: something of the request left unused (a menu selection the machine's target does not offer). */
  | { readonly ok: true; readonly text: string; readonly note?: string }
  | { readonly ok: false; readonly status: number; readonly message: string };

/** Seconds between polls of a held machine: "within seconds of the operator assigning it". */
export const HOLD_POLL_SECONDS = 3;

function selfUrl(machine: MachineContext, context: RenderContext, extra = ''): string {
  return `${context.serverBase}/ipxe?${machineQuery(machine)}${extra}`;
}

/** Unique image names; EFI Linux finds its initrds by these names (`initrd=NAME` on the command line). */
function initrdNames(initrds: readonly Source[]): string[] {
  const seen = new Map<string, number>();
  return initrds.map((source) => {
    const base = (source.split(/[?#]/)[0]!.split('/').pop() || 'initrd').replace(/[^A-Za-z0-9._-]/g, '_');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    return count === 0 ? base : `${count}-${base}`;
  });
}

function kernelScript(
  title: string,
  kernel: Source,
  initrds: readonly Source[],
  cmdline: string,
  variables: Record<string, string>,
  machine: MachineContext,
  context: RenderContext,
): string {
  const names = initrdNames(initrds);
  const args = oneLine([...names.map((name) => `initrd=${name}`), expandVariables(cmdline, variables)].join(' '));
  const lines = [
    '#!ipxe',
    `# pxedeck: ${oneLine(title)} for ${machine.mac}`,
    `echo pxedeck: ${oneLine(title)}`,
    `kernel ${oneLine(context.sourceUrl(kernel))}${args ? ` ${args}` : ''} || goto failed`,
    ...initrds.map((initrd, index) => `initrd --name ${names[index]} ${oneLine(context.sourceUrl(initrd))} || goto failed`),
    // The beacon tells the console "booted"; a failed beacon must never stop the boot.
    `imgfetch --name pxedeck-booted ${variables.booted_url} && imgfree pxedeck-booted ||`,
    'boot || goto failed',
    '',
    ':failed',
    'echo pxedeck: boot failed, asking the server again in 5 seconds',
    'sleep 5',
    `chain --replace --autofree ${selfUrl(machine, context)}`,
  ];
  return `${lines.join('\n')}\n`;
}

function profileScript(profile: Profile, assignment: Assignment | undefined, machine: MachineContext, context: RenderContext): string {
  const variables = variablesFor(profile, assignment, machine, context);
  if (profile.script) {
    const text = expandVariables(profile.script, variables);
    return text.endsWith('\n') ? text : `${text}\n`;
  }
  const sources = sourcesFor(profile, variables);
  return kernelScript(profile.title, sources.kernel!, sources.initrds, profile.cmdline, variables, machine, context);
}

export function holdScript(machine: MachineContext, context: RenderContext): string {
  return [
    '#!ipxe',
    `# pxedeck: ${machine.mac} is held until the operator assigns it`,
    `echo pxedeck: ${machine.mac} is held; waiting for the operator to assign it...`,
    ':poll',
    `sleep ${HOLD_POLL_SECONDS}`,
    `chain --replace --autofree ${selfUrl(machine, context, '&poll=1')} || goto poll`,
    '',
  ].join('\n');
}

export function localBootScript(): string {
  return [
    '#!ipxe',
    '# pxedeck: boot from the local disk',
    'echo pxedeck: booting from the local disk',
    'iseq ${platform} efi && goto efi ||',
    'sanboot --no-describe --drive 0x80 ||',
    ':efi',
    'exit',
    '',
  ].join('\n');
}

function menuScript(menuId: string, machine: MachineContext, context: RenderContext): RenderResult {
  const menu = context.menus.get(menuId);
  if (!menu) return { ok: false, status: 404, message: `menu "${menuId}" does not exist` };
  const missing = menu.items.filter((item) => !context.profiles.has(item.profile)).map((item) => item.profile);
  if (missing.length) return { ok: false, status: 500, message: `menu "${menuId}" lists unknown profiles: ${missing.join(', ')}` };
  const label = (id: string) => `pxedeck-${id.replace(/[^a-z0-9]/g, '-')}`;
  const lines = ['#!ipxe', `# pxedeck: menu ${menu.id} for ${machine.mac}`, ':menu', `menu ${oneLine(menu.title)}`];
  for (const item of menu.items) {
    const title = item.label ?? context.profiles.get(item.profile)!.title;
    lines.push(`item${item.key ? ` --key ${item.key}` : ''} ${label(item.profile)} ${oneLine(title)}`);
  }
  const fallback = menu.default ?? menu.items[0]!.profile;
  const timeout = menu.timeoutSeconds > 0 ? ` --timeout ${menu.timeoutSeconds * 1000}` : '';
  lines.push(`choose --default ${label(fallback)}${timeout} selected || goto menu`, 'goto ${selected}', '');
  for (const item of menu.items) {
    lines.push(`:${label(item.profile)}`, `chain --replace --autofree ${selfUrl(machine, context, `&profile=${encodeURIComponent(item.profile)}`)} || goto menu`);
  }
  lines.push('');
  return { ok: true, text: lines.join('\n') };
}

/**
 * The script for this machine right now. `chosenProfile` is a menu selection coming back (`&profile=`):
 * it counts only when the machine's target is a menu that offers that profile. A held, ignored or
 * local-disk machine, or one assigned a profile, keeps its target whatever the request asks.
 */
export function renderIpxeScript(
  assignment: Assignment | undefined,
  fallback: BootTarget,
  machine: MachineContext,
  context: RenderContext,
  chosenProfile?: string,
): RenderResult {
  const effective = effectiveTarget(assignment, fallback);
  if (chosenProfile === undefined) return renderTarget(effective, assignment, machine, context);
  const offered = effective.kind === 'menu' && context.menus.get(effective.menu)?.items.some((item) => item.profile === chosenProfile);
  if (offered) return renderTarget({ kind: 'profile', profile: chosenProfile }, assignment, machine, context);
  const result = renderTarget(effective, assignment, machine, context);
  const why = effective.kind === 'menu' ? `menu "${effective.menu}" does not offer it` : `this machine's target is ${effective.kind}, not a menu`;
  return result.ok ? { ...result, note: `menu selection ${JSON.stringify(chosenProfile.slice(0, 40))} not used: ${why}` } : result;
}

function renderTarget(target: BootTarget, assignment: Assignment | undefined, machine: MachineContext, context: RenderContext): RenderResult {
  switch (target.kind) {
    case 'profile': {
      const profile = context.profiles.get(target.profile);
      if (!profile) return { ok: false, status: 404, message: `profile "${target.profile}" does not exist` };
      return { ok: true, text: profileScript(profile, assignment, machine, context) };
    }
    case 'menu':
      return menuScript(target.menu, machine, context);
    case 'hold':
      return { ok: true, text: holdScript(machine, context) };
    case 'local':
      return { ok: true, text: localBootScript() };
    case 'ignore':
      return { ok: true, text: '#!ipxe\n# pxedeck: this machine is ignored\nexit\n' };
    case 'inline': {
      const variables = variablesFor(undefined, assignment, machine, context);
      return { ok: true, text: kernelScript('direct kernel', target.kernel, target.initrds, target.cmdline, variables, machine, context) };
    }
    case 'script':
      return target.script.trimStart().startsWith('#!ipxe')
        ? { ok: true, text: target.script.endsWith('\n') ? target.script : `${target.script}\n` }
        : { ok: false, status: 502, message: 'the external decision source answered a script that does not start with #!ipxe' };
  }
}
