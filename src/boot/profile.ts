/**
 * A profile is data: what to boot (kernel, initrds, command line, or a raw iPXE template) and the
 * variables it takes. A menu lists profiles. Both are validated here, purely, so a broken file is
 * reported with its field and a fix while the others still load.
 */

/** A local path (relative to the boot directory) or an http(s) URL. */
export type Source = string;

export interface Profile {
  readonly id: string;
  readonly title: string;
  readonly description?: string;
  readonly kernel?: Source;
  readonly initrds: readonly Source[];
  /** Kernel command line; `{{name}}` expands variables. */
  readonly cmdline: string;
  /** A raw iPXE script template used instead of kernel/initrd. */
  readonly script?: string;
  /** Defaults for the variables the profile uses. */
  readonly variables: Readonly<Record<string, string>>;
}

export interface MenuItem {
  readonly profile: string;
  readonly label?: string;
  readonly key?: string;
}

export interface Menu {
  readonly id: string;
  readonly title: string;
  readonly items: readonly MenuItem[];
  /** Profile id chosen when the timeout runs out. */
  readonly default?: string;
  readonly timeoutSeconds: number;
}

export type Problem = { readonly field: string; readonly message: string; readonly fix: string };

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problems: readonly Problem[] };

const ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const VARIABLE_NAME = /^[a-z_][a-z0-9_]*$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkSource(field: string, value: unknown, problems: Problem[]): value is string {
  if (typeof value !== 'string' || value.trim() === '') {
    problems.push({ field, message: `is ${JSON.stringify(value)}`, fix: 'give a path under the boot directory or an http(s):// URL' });
    return false;
  }
  if (/^[a-z]+:\/\//i.test(value) && !/^https?:\/\//i.test(value)) {
    problems.push({ field, message: `uses an unsupported scheme (${value})`, fix: 'use http:// or https://, or a local path' });
    return false;
  }
  if (!/^https?:\/\//i.test(value) && (value.startsWith('/') || value.split('/').includes('..'))) {
    problems.push({ field, message: `"${value}" leaves the boot directory`, fix: 'use a path relative to the boot directory, without ".."' });
    return false;
  }
  return true;
}

/**
 * A kernel or initrd may name the profile's own variables (`{{installer_dir}}/linux`), so the operator can point
 * a preset at local files per machine without copying it. Only declared variables: the built-ins are the
 * machine's or the server's, never a file to fetch. Its default must already be a usable source.
 */
function checkSourceTemplate(field: string, value: unknown, variables: Readonly<Record<string, string>>, problems: Problem[]): void {
  if (typeof value !== 'string') {
    checkSource(field, value, problems);
    return;
  }
  const undeclared = usedVariables(value).filter((name) => !(name in variables));
  for (const name of undeclared) {
    problems.push({
      field,
      message: `uses {{${name}}}, which the profile does not declare`,
      fix: `add "${name}" under variables with a default (a URL or a path under the boot directory); per machine it can then point elsewhere`,
    });
  }
  if (undeclared.length === 0) checkSource(field, expandVariables(value, variables), problems);
}

const profileFields = new Set(['title', 'description', 'kernel', 'initrd', 'initrds', 'cmdline', 'script', 'variables', 'kind']);

export function parseProfile(id: string, raw: unknown): Parsed<Profile> {
  const problems: Problem[] = [];
  if (!ID.test(id)) problems.push({ field: 'id', message: `"${id}" is not a usable id`, fix: 'name the file with lower-case letters, digits, ".", "_" or "-"' });
  if (!isRecord(raw)) return { ok: false, problems: [{ field: '(file)', message: 'is not a mapping', fix: 'write the profile as key: value pairs (title, kernel, initrd, cmdline)' }] };
  for (const key of Object.keys(raw)) {
    if (!profileFields.has(key)) problems.push({ field: key, message: 'is not a profile field', fix: `remove it, or use one of: ${[...profileFields].join(', ')}` });
  }
  const title = raw.title ?? id;
  if (typeof title !== 'string') problems.push({ field: 'title', message: `is ${JSON.stringify(title)}`, fix: 'give a short text' });
  const description = raw.description;
  if (description !== undefined && typeof description !== 'string') problems.push({ field: 'description', message: 'is not text', fix: 'give a short text' });
  const variables: Record<string, string> = {};
  if (raw.variables !== undefined) {
    if (!isRecord(raw.variables)) problems.push({ field: 'variables', message: 'is not a mapping', fix: 'write name: default pairs' });
    else {
      for (const [name, value] of Object.entries(raw.variables)) {
        if (!VARIABLE_NAME.test(name)) problems.push({ field: `variables.${name}`, message: 'is not a usable name', fix: 'use lower-case letters, digits and "_"' });
        else if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
          problems.push({ field: `variables.${name}`, message: `is ${JSON.stringify(value)}`, fix: 'give a text default ("" for none)' });
        } else variables[name] = String(value);
      }
    }
  }
  const kernel = raw.kernel;
  if (kernel !== undefined) checkSourceTemplate('kernel', kernel, variables, problems);
  const initrdRaw = raw.initrds ?? raw.initrd;
  const initrds = initrdRaw === undefined ? [] : Array.isArray(initrdRaw) ? initrdRaw : [initrdRaw];
  initrds.forEach((initrd, index) => checkSourceTemplate(`initrd[${index}]`, initrd, variables, problems));
  const cmdline = raw.cmdline ?? '';
  if (typeof cmdline !== 'string') problems.push({ field: 'cmdline', message: `is ${JSON.stringify(cmdline)}`, fix: 'give the kernel command line as one line of text' });
  else if (/[\r\n]/.test(cmdline)) problems.push({ field: 'cmdline', message: 'spans several lines', fix: 'write it on one line (YAML: use a plain or folded ">" scalar)' });
  const script = raw.script;
  if (script !== undefined && (typeof script !== 'string' || !script.trimStart().startsWith('#!ipxe'))) {
    problems.push({ field: 'script', message: 'is not an iPXE script', fix: 'start the template with "#!ipxe"' });
  }
  if (kernel === undefined && script === undefined) problems.push({ field: 'kernel', message: 'is missing', fix: 'give a kernel (and initrd), or a raw iPXE "script"' });
  for (const [field, text] of [['cmdline', cmdline], ['script', script]] as const) {
    if (typeof text !== 'string') continue;
    for (const name of usedVariables(text)) {
      if (!(name in variables) && !builtinVariables.has(name)) {
        problems.push({ field, message: `uses {{${name}}}, which is not declared`, fix: `add "${name}" under variables (with a default), or use a built-in: ${[...builtinVariables].join(', ')}` });
      }
    }
  }
  if (problems.length) return { ok: false, problems };
  return {
    ok: true,
    value: {
      id,
      title: title as string,
      ...(typeof description === 'string' && { description }),
      ...(typeof kernel === 'string' && { kernel }),
      initrds: initrds as string[],
      cmdline: cmdline as string,
      ...(typeof script === 'string' && { script }),
      variables,
    },
  };
}

const menuFields = new Set(['kind', 'title', 'items', 'default', 'timeout']);

export function parseMenu(id: string, raw: unknown): Parsed<Menu> {
  const problems: Problem[] = [];
  if (!ID.test(id)) problems.push({ field: 'id', message: `"${id}" is not a usable id`, fix: 'name the file with lower-case letters, digits, ".", "_" or "-"' });
  if (!isRecord(raw)) return { ok: false, problems: [{ field: '(file)', message: 'is not a mapping', fix: 'write the menu as key: value pairs (kind: menu, title, items)' }] };
  for (const key of Object.keys(raw)) {
    if (!menuFields.has(key)) problems.push({ field: key, message: 'is not a menu field', fix: `remove it, or use one of: ${[...menuFields].join(', ')}` });
  }
  const items: MenuItem[] = [];
  if (!Array.isArray(raw.items) || raw.items.length === 0) {
    problems.push({ field: 'items', message: 'is missing or empty', fix: 'list the profiles, e.g. items: [debian-installer, local-disk]' });
  } else {
    raw.items.forEach((item: unknown, index) => {
      if (typeof item === 'string' && ID.test(item)) items.push({ profile: item });
      else if (isRecord(item) && typeof item.profile === 'string' && ID.test(item.profile)) {
        items.push({
          profile: item.profile,
          ...(typeof item.label === 'string' && { label: item.label }),
          ...(typeof item.key === 'string' && item.key.length === 1 && { key: item.key }),
        });
      } else problems.push({ field: `items[${index}]`, message: `is ${JSON.stringify(item)}`, fix: 'give a profile id, or { profile: id, label: text, key: letter }' });
    });
  }
  const timeout = raw.timeout ?? 10;
  if (typeof timeout !== 'number' || timeout < 0 || timeout > 3600) problems.push({ field: 'timeout', message: `is ${JSON.stringify(timeout)}`, fix: 'give seconds from 0 to 3600 (0 waits forever)' });
  const fallback = raw.default;
  if (fallback !== undefined && (typeof fallback !== 'string' || !items.some((item) => item.profile === fallback))) {
    problems.push({ field: 'default', message: `"${String(fallback)}" is not one of the items`, fix: 'name one of the listed profiles' });
  }
  const title = typeof raw.title === 'string' ? raw.title : id;
  if (problems.length) return { ok: false, problems };
  return { ok: true, value: { id, title, items, timeoutSeconds: timeout as number, ...(typeof fallback === 'string' && { default: fallback }) } };
}

/** Variables every rendering provides, whatever the profile declares. */
export const builtinVariables: ReadonlySet<string> = new Set([
  'server',
  'mac',
  'mac_hyphen',
  'ip',
  'uuid',
  'arch',
  'hostname',
  'extra_args',
  'booted_url',
  'done_url',
  'syslog_server',
  'profile',
]);

const PLACEHOLDER = /\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}/g;

export function usedVariables(template: string): string[] {
  return [...new Set([...template.matchAll(PLACEHOLDER)].map((match) => match[1]!))];
}

/** `{{name}}` → value (undeclared names were refused when the profile loaded; any left become empty). */
export function expandVariables(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(PLACEHOLDER, (_whole, name: string) => values[name] ?? '');
}
