/** The console's keys, one table for the footer and the `?` screen, so the two never disagree. */
export interface KeyHelp {
  readonly keys: string;
  readonly action: string;
  /** Shown in the footer (short form) as well as on the help screen. */
  readonly footer?: string;
}

export const tableKeys: readonly KeyHelp[] = [
  { keys: '↑ ↓  j k', action: 'move; PgUp PgDn, g G (Home End) jump' },
  { keys: 'Enter', action: 'details: stage path with times, timeline, the exact script', footer: 'details' },
  { keys: 'space', action: 'select or unselect the machine (actions apply to all selected)', footer: 'select' },
  { keys: 'n', action: 'select all new machines (no assignment of their own)', footer: 'all new' },
  { keys: 'x', action: 'clear the selection' },
  { keys: 'a', action: 'assign a profile (type to filter; Tab toggles "once")', footer: 'assign' },
  { keys: 'm', action: 'assign a menu' },
  { keys: 'o', action: 'boot a profile once, then the local disk', footer: 'once' },
  { keys: 'l', action: 'boot from the local disk' },
  { keys: 'h', action: 'hold: the machine waits until released or assigned', footer: 'hold' },
  { keys: 'r', action: 'release a held machine', footer: 'release' },
  { keys: 'i', action: 'ignore: pxedeck stops answering the machine' },
  { keys: 'c', action: 'clear the assignment (back to the default; undoes ignore)' },
  { keys: 'b', action: 'x64 UEFI boot program: default → Secure Boot chain (shim → GRUB) → iPXE → default' },
  { keys: 'v', action: 'per-machine variables: hostname, extra kernel arguments, profile variables', footer: 'vars' },
  { keys: 'e', action: 'export the machine\'s report (timeline, packets, scripts) to a file', footer: 'export' },
  { keys: '/', action: 'filter the table (MAC, vendor, IP, profile, stage, status)', footer: 'filter' },
  { keys: 't', action: 'sort: most recent activity, first seen, MAC' },
  { keys: 'L', action: 'system log: notices, server errors, operator actions' },
  { keys: 's', action: 'settings: interface, mode, pool, boot directory, ports; applied live', footer: 'settings' },
  { keys: '?', action: 'this help', footer: 'help' },
  { keys: 'q', action: 'quit: servers close, the terminal is restored', footer: 'quit' },
];

export const detailKeys: readonly KeyHelp[] = [
  { keys: 'Tab', action: 'switch between timeline, iPXE script, PXELINUX config and GRUB config', footer: 'next tab' },
  { keys: '↑ ↓ PgUp PgDn', action: 'scroll', footer: 'scroll' },
  { keys: 'a m o h r i c b v e', action: 'the same actions as in the table, on this machine' },
  { keys: 'Esc', action: 'back to the table', footer: 'back' },
];

export const pickerKeys: readonly KeyHelp[] = [
  { keys: 'type', action: 'filter', footer: 'filter' },
  { keys: '↑ ↓', action: 'choose', footer: 'choose' },
  { keys: 'Tab', action: 'toggle once', footer: 'once' },
  { keys: 'Enter', action: 'assign', footer: 'assign' },
  { keys: 'Esc', action: 'cancel', footer: 'cancel' },
];

export function footerLine(keys: readonly KeyHelp[]): string {
  return keys
    .filter((key) => key.footer)
    .map((key) => `${key.keys.split(/\s{2,}/)[0]} ${key.footer}`)
    .join('  ');
}
