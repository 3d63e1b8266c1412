/** What every renderer needs to know about the machine and where things are served from. */
import type { Mac } from '../protocol/mac.js';
import { macToHexHyphen } from '../protocol/mac.js';
import type { Assignment } from './boot-target.js';
import { expandVariables, type Menu, type Profile, type Source } from './profile.js';
import { machineWord, oneLine } from './script-value.js';

export interface MachineContext {
  readonly mac: Mac;
  readonly ip?: string;
  readonly uuid?: string;
  /** iPXE's ${buildarch}: i386, x86_64, arm64… */
  readonly arch?: string;
  /** iPXE's ${platform}: pcbios, efi. */
  readonly platform?: string;
  readonly hostname?: string;
}

export interface RenderContext {
  /** http://10.0.0.1 or http://[fd00::1]:8080, no trailing slash. */
  readonly serverBase: string;
  /** The URL a source is fetched from: local paths under /files, upstream URLs through the cache. */
  readonly sourceUrl: (source: Source) => string;
  readonly profiles: ReadonlyMap<string, Profile>;
  readonly menus: ReadonlyMap<string, Menu>;
  readonly syslogServer?: string;
}

export function machineQuery(machine: MachineContext): string {
  const params = new URLSearchParams({ mac: machine.mac });
  for (const name of ['uuid', 'arch', 'platform'] as const) {
    const value = machineWord(machine[name]);
    if (value) params.set(name, value);
  }
  return params.toString();
}

/**
 * Built-ins, then the profile's defaults, then the machine's own variables. Every value passes the script-value
 * rule here, so no renderer can expand a raw one: what the machine sent only as one safe word, the rest as one line.
 */
export function variablesFor(
  profile: Pick<Profile, 'id' | 'variables'> | undefined,
  assignment: Assignment | undefined,
  machine: MachineContext,
  context: RenderContext,
): Record<string, string> {
  const mac = encodeURIComponent(machine.mac);
  const own = assignment?.variables ?? {};
  const merged: Record<string, string> = {
    server: context.serverBase,
    mac: machine.mac,
    mac_hyphen: macToHexHyphen(machine.mac),
    ip: machineWord(machine.ip) ?? '',
    uuid: machineWord(machine.uuid) ?? '',
    arch: machineWord(machine.arch) ?? '',
    profile: profile?.id ?? '',
    booted_url: `${context.serverBase}/booted?mac=${mac}`,
    done_url: `${context.serverBase}/done?mac=${mac}`,
    syslog_server: context.syslogServer ?? '',
    extra_args: '',
    ...profile?.variables,
    hostname: own.hostname ?? machineWord(machine.hostname) ?? profile?.variables.hostname ?? `pxe-${macToHexHyphen(machine.mac)}`,
    ...own,
  };
  // Defaults may name built-ins ("{{server}}/files/preseed.cfg"): one more pass resolves them.
  for (const [name, value] of Object.entries(merged)) merged[name] = oneLine(value.includes('{{') ? expandVariables(value, merged) : value);
  return merged;
}

/**
 * A profile's kernel and initrds as this machine gets them: `{{name}}` expands the profile's variables (its
 * default, or the operator's value for this machine — which may be an absolute local path, as with
 * `assign --kernel`).
 */
export function sourcesFor(profile: Pick<Profile, 'kernel' | 'initrds'>, variables: Readonly<Record<string, string>>): { kernel?: Source; initrds: Source[] } {
  const expand = (source: Source) => (source.includes('{{') ? expandVariables(source, variables) : source);
  return { ...(profile.kernel !== undefined && { kernel: expand(profile.kernel) }), initrds: profile.initrds.map(expand) };
}
