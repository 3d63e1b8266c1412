/**
 * The ISO's own boot menus, read for a kernel, its initrds and its arguments: ISOLINUX/SYSLINUX configs
 * (LABEL, KERNEL/LINUX, INITRD, APPEND with initrd=, INCLUDE, DEFAULT/ONTIMEOUT/MENU DEFAULT) and GRUB
 * configs (menuentry and submenu blocks with linux/linuxefi/linux16 and initrd lines, set default=).
 * Only what a network boot can use: entries that load a Linux kernel, not COM32 modules or chainloaders.
 */
import { textAt, type IsoSnapshot } from './snapshot.js';

export interface MenuEntry {
  readonly source: 'isolinux' | 'grub';
  /** The config file the entry is in. */
  readonly file: string;
  readonly label: string;
  /** Image paths, without a leading slash. */
  readonly kernel: string;
  readonly initrds: readonly string[];
  readonly args: string;
  readonly isDefault: boolean;
}

export const ISOLINUX_CONFIGS = ['isolinux/isolinux.cfg', 'isolinux.cfg', 'boot/isolinux/isolinux.cfg', 'syslinux/syslinux.cfg', 'boot/syslinux/syslinux.cfg', 'syslinux.cfg'];
export const GRUB_CONFIGS = ['boot/grub/grub.cfg', 'efi/boot/grub.cfg', 'boot/grub/loopback.cfg'];

const NOT_A_KERNEL = /(\.c32|\.com|\.0|\.efi|^memdisk)$/i;
const MAX_INCLUDES = 32;

function resolvePath(path: string, baseDir: string): string {
  const clean = path.replace(/^\([^)]*\)/, '').trim();
  const joined = clean.startsWith('/') ? clean : `${baseDir}/${clean}`;
  const parts: string[] = [];
  for (const part of joined.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return parts.join('/');
}

function dirOf(path: string): string {
  const cut = path.lastIndexOf('/');
  return cut === -1 ? '' : path.slice(0, cut);
}

/** ISOLINUX: one pass over a config and its INCLUDEs (paths relative to the first config's directory). */
function isolinuxEntries(snapshot: IsoSnapshot, file: string): MenuEntry[] {
  const baseDir = dirOf(file);
  const labels: Array<{ file: string; label: string; kernel?: string; initrds: string[]; args: string; menuDefault: boolean }> = [];
  let defaultLabel: string | undefined;
  let onTimeout: string | undefined;
  let includes = 0;
  const read = (path: string): void => {
    const text = textAt(snapshot, path);
    if (text === undefined) return;
    for (const raw of text.split(/\r?\n/)) {
      const line = raw.trim();
      const match = /^(\S+)\s*(.*)$/.exec(line);
      if (!match || line.startsWith('#')) continue;
      const keyword = match[1]!.toUpperCase();
      const rest = match[2]!.trim();
      const current = labels[labels.length - 1];
      if (keyword === 'LABEL') labels.push({ file: path, label: rest, initrds: [], args: '', menuDefault: false });
      else if (keyword === 'DEFAULT') defaultLabel = rest.split(/\s+/)[0];
      else if (keyword === 'ONTIMEOUT') onTimeout = rest.split(/\s+/)[0];
      else if ((keyword === 'INCLUDE' || keyword === 'CONFIG') && includes < MAX_INCLUDES) {
        includes++;
        read(resolvePath(rest.split(/\s+/)[0]!, baseDir));
      } else if (keyword === 'MENU' && /^DEFAULT\b/i.test(rest) && current) current.menuDefault = true;
      else if (current && (keyword === 'KERNEL' || keyword === 'LINUX')) current.kernel = resolvePath(rest.split(/\s+/)[0]!, baseDir);
      else if (current && keyword === 'INITRD') current.initrds.push(...rest.split(',').map((item) => resolvePath(item, baseDir)));
      else if (current && keyword === 'APPEND') {
        const words = rest.split(/\s+/).filter((word) => word !== '');
        for (const word of words) if (word.startsWith('initrd=')) current.initrds.push(...word.slice(7).split(',').filter(Boolean).map((item) => resolvePath(item, baseDir)));
        current.args = words.filter((word) => !word.startsWith('initrd=')).join(' ');
      }
    }
  };
  read(file);
  const chosen = labels.find((label) => label.menuDefault)?.label ?? (defaultLabel && labels.some((label) => label.label === defaultLabel) ? defaultLabel : onTimeout);
  return labels.flatMap((label) =>
    label.kernel && !NOT_A_KERNEL.test(label.kernel)
      ? [{ source: 'isolinux' as const, file: label.file, label: label.label, kernel: label.kernel, initrds: label.initrds, args: label.args, isDefault: label.label === chosen }]
      : [],
  );
}

/** GRUB: menuentry blocks (nested in submenus too), in order; `set default=` by index or title. */
function grubEntries(snapshot: IsoSnapshot, file: string): MenuEntry[] {
  const text = textAt(snapshot, file);
  if (text === undefined) return [];
  const entries: Array<{ label: string; kernel?: string; initrds: string[]; args: string }> = [];
  let defaultSetting: string | undefined;
  let current: (typeof entries)[number] | undefined;
  let depth = 0;
  let entryDepth = -1;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith('#') || line === '') continue;
    const menuentry = /^menuentry\s+(?:'([^']*)'|"([^"]*)"|(\S+))/.exec(line);
    if (menuentry) {
      current = { label: menuentry[1] ?? menuentry[2] ?? menuentry[3] ?? '', initrds: [], args: '' };
      entries.push(current);
      entryDepth = depth;
    }
    const set = /^set\s+default=["']?([^"'\s]+)["']?/.exec(line);
    if (set && !current) defaultSetting = set[1];
    const linux = /^(linux|linuxefi|linux16)\s+(\S+)\s*(.*)$/.exec(line);
    if (linux && current) {
      current.kernel = resolvePath(linux[2]!, '');
      current.args = linux[3]!.trim();
    }
    const initrd = /^(initrd|initrdefi|initrd16)\s+(.+)$/.exec(line);
    if (initrd && current) current.initrds.push(...initrd[2]!.trim().split(/\s+/).map((path) => resolvePath(path, '')));
    depth += (line.match(/\{/g) ?? []).length - (line.match(/\}/g) ?? []).length;
    if (current && depth <= entryDepth) current = undefined;
  }
  const byIndex = defaultSetting !== undefined && /^\d+$/.test(defaultSetting) ? Number(defaultSetting) : undefined;
  return entries.flatMap((entry, index) =>
    entry.kernel && !NOT_A_KERNEL.test(entry.kernel)
      ? [{ source: 'grub' as const, file, label: entry.label, kernel: entry.kernel, initrds: entry.initrds, args: entry.args, isDefault: byIndex === index || entry.label === defaultSetting }]
      : [],
  );
}

/** Linux entries of every menu on the image: ISOLINUX first (BIOS media), then GRUB. */
export function menuEntries(snapshot: IsoSnapshot): MenuEntry[] {
  return [
    ...ISOLINUX_CONFIGS.flatMap((file) => isolinuxEntries(snapshot, file)),
    ...GRUB_CONFIGS.flatMap((file) => grubEntries(snapshot, file)),
  ];
}

/** The entry a network boot takes: the menu's default if it loads a kernel, else the first that does. */
export function chooseEntry(entries: readonly MenuEntry[]): MenuEntry | undefined {
  return entries.find((entry) => entry.isDefault) ?? entries[0];
}

/** Arguments that only make sense booting from the CD itself, for the note the console shows. */
export function cdOnlyArguments(args: string): string[] {
  return args.split(/\s+/).filter((word) => /^(root=(live:)?(CDLABEL|LABEL)=|inst\.stage2=hd:|boot=casper|cdrom|iso-scan|findiso=|archisolabel=|archisosearchuuid=)/i.test(word));
}
