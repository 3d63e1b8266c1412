/**
 * Settings persisted in the data dir (settings.json, see conf-file.ts), overridden by command-line flags. Every field is checked on
 * load; a bad one is reported with the file, the field and the fix.
 */
import { isIPv6 } from 'node:net';
import ipaddr from '../protocol/ipaddr.js';
import type { BootTarget } from '../boot/boot-target.js';
import { parseMac } from '../protocol/mac.js';
import { cacheLimitProblem } from '../servers/http/cache-limit.js';
import { routerLifetimeProblem } from '../servers/ra/router-lifetime.js';
import { ConfigFileError, openConfFile } from './conf-file.js';

export type ServeMode = 'proxy' | 'dhcp';

export interface Settings {
  readonly interface?: string;
  readonly mode: ServeMode;
  /** Full DHCP pool, `FIRST-LAST`. */
  readonly pool?: string;
  readonly bootDir?: string;
  readonly httpPort: number;
  readonly leaseSeconds: number;
  /** Static reservations: MAC → IPv4. */
  readonly reservations: Readonly<Record<string, string>>;
  readonly routers?: readonly string[];
  readonly dnsServers?: readonly string[];
  /** What unknown machines get: "menu:ID", "profile:ID", "local", "hold" or "ignore". */
  readonly defaultTarget: string;
  /** Pixiecore-style API asked first for each machine (GET <url>/v1/boot/<mac>). */
  readonly bootApi?: string;
  /** The control API's port on loopback; 0 turns it off. */
  readonly controlPort: number;
  readonly controlToken?: string;
  /** Router lifetime of pxedeck's own RAs, seconds; unset: by mode (see routerLifetimeOf). */
  readonly raLifetime?: number;
  /** Size cap of the upstream cache directory, GiB; unset: DEFAULT_CACHE_LIMIT_GIB. */
  readonly upstreamCacheGiB?: number;
  /**
   * What x64 UEFI machines without a choice of their own start: "ipxe" (default; a Secure Boot machine that
   * refuses it is switched to the signed chain by itself) or "signed" (shim → signed GRUB, for racks with
   * Secure Boot everywhere: no refused first attempt).
   */
  readonly uefiBootProgram?: 'ipxe' | 'signed';
  /** Largest TFTP block offered; unset: what the bench port's MTU carries without IP fragments. */
  readonly tftpBlksizeCap?: number;
}

export const defaultSettings: Settings = {
  mode: 'proxy',
  httpPort: 80,
  leaseSeconds: 3600,
  reservations: {},
  defaultTarget: 'menu:default',
  controlPort: 7411,
};

/** Parses the defaultTarget setting into a boot target; undefined when it is not one. */
export function parseTargetSetting(text: string): BootTarget | undefined {
  const [kind, id] = text.split(':', 2);
  if ((kind === 'menu' || kind === 'profile') && id && /^[a-z0-9][a-z0-9._-]*$/.test(id)) {
    return kind === 'menu' ? { kind, menu: id } : { kind, profile: id };
  }
  if (id === undefined && (kind === 'local' || kind === 'hold' || kind === 'ignore')) return { kind };
  return undefined;
}

type Check = (value: unknown) => string | undefined;

const isIpv4 = (value: unknown): value is string => typeof value === 'string' && ipaddr.IPv4.isValidFourPartDecimal(value);

export function parsePool(text: string): { first: string; last: string } | undefined {
  const [first, last, extra] = text.split('-').map((part) => part.trim());
  if (extra !== undefined || !isIpv4(first) || !isIpv4(last)) return undefined;
  return { first, last };
}

/**
 * The router lifetime pxedeck's RAs carry when it advertises (only when no router answers on the segment).
 * Proxy mode: always 0. pxedeck sits beside a site network there, and a default route through a machine
 * that forwards nothing would black-hole the site hosts' IPv6 traffic; a set lifetime is refused.
 * Full DHCP (an isolated bench pxedeck owns): 30 s by default. OVMF's PXEv6 polls up to 10 s after its
 * DHCPv6 Reply for a default route before it fetches the boot file (EDK2 PxeBcCheckRouteTable): measured in
 * the lab, that is ~10 s of every UEFI PXEv6 boot. 30 s is RFC 4861's default (three RA intervals: two RAs may
 * be lost), short so that hosts forget a pxedeck that ended without its final RA within half a minute;
 * a clean stop withdraws at once. Bench hosts then send off-link IPv6 to pxedeck, which forwards nothing —
 * on an isolated bench there is nowhere else it could go.
 */
export const BENCH_ROUTER_LIFETIME = 30;

export function routerLifetimeOf(settings: Pick<Settings, 'mode' | 'raLifetime'>): { readonly seconds: number } | { readonly problem: string } {
  if (settings.mode === 'proxy') {
    if (settings.raLifetime) {
      return {
        problem:
          `router lifetime ${settings.raLifetime} s in proxy mode: pxedeck sits beside a site network there and must never become anyone's default router; ` +
          'fix: --ra-lifetime 0 (or remove raLifetime from settings.json), or --mode dhcp on an isolated bench switch',
      };
    }
    return { seconds: 0 };
  }
  return { seconds: settings.raLifetime ?? BENCH_ROUTER_LIFETIME };
}

const checks: Record<keyof Settings, Check> = {
  interface: (value) => (typeof value === 'string' && value.length > 0 && value.length <= 15 ? undefined : 'use an interface name such as "enp3s0" (`ip link` lists them)'),
  mode: (value) => (value === 'proxy' || value === 'dhcp' ? undefined : 'use "proxy" (beside an existing DHCP server) or "dhcp" (full DHCP on an isolated bench switch)'),
  pool: (value) => (typeof value === 'string' && parsePool(value) ? undefined : 'use FIRST-LAST IPv4 addresses on the interface\'s subnet, e.g. "10.0.0.100-10.0.0.199"'),
  bootDir: (value) => (typeof value === 'string' && value.length > 0 ? undefined : 'use the path of a directory holding boot files'),
  httpPort: (value) => (Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 65535 ? undefined : 'use a TCP port number from 1 to 65535'),
  leaseSeconds: (value) => (Number.isInteger(value) && (value as number) >= 60 ? undefined : 'use a whole number of seconds, at least 60'),
  reservations: (value) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'use an object of "MAC": "IPv4" pairs';
    for (const [mac, ip] of Object.entries(value)) {
      if (!parseMac(mac)) return `"${mac}" is not a MAC address; use the form "52:54:00:12:34:56"`;
      if (!isIpv4(ip)) return `the address for ${mac} must be an IPv4 address, e.g. "10.0.0.50"`;
    }
    return undefined;
  },
  routers: (value) => (Array.isArray(value) && value.every(isIpv4) ? undefined : 'use a list of IPv4 addresses, e.g. ["10.0.0.1"]'),
  // IPv4 ones go out by DHCPv4 (option 6), IPv6 ones by DHCPv6 (option 23): an IPv6-only bench needs the latter.
  dnsServers: (value) =>
    Array.isArray(value) && value.every((entry) => isIpv4(entry) || (typeof entry === 'string' && isIPv6(entry)))
      ? undefined
      : 'use a list of IPv4 and/or IPv6 addresses, e.g. ["10.0.0.1", "fd00::1"]',
  defaultTarget: (value) =>
    typeof value === 'string' && parseTargetSetting(value) ? undefined : 'use "menu:ID", "profile:ID", "local", "hold" or "ignore"',
  bootApi: (value) => (typeof value === 'string' && /^https?:\/\/[^\s]+$/.test(value) ? undefined : 'use the API\'s base URL, e.g. "http://127.0.0.1:8000"'),
  controlPort: (value) => (Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 65535 ? undefined : 'use a TCP port number, or 0 to turn the control API off'),
  controlToken: (value) => (typeof value === 'string' && value.length >= 16 ? undefined : 'use a random token of at least 16 characters'),
  raLifetime: (value) => routerLifetimeProblem(value),
  upstreamCacheGiB: (value) => cacheLimitProblem(value),
  uefiBootProgram: (value) => (value === 'ipxe' || value === 'signed' ? undefined : 'use "ipxe" (iPXE first, the signed chain after Secure Boot refuses it) or "signed" (shim → signed GRUB for every x64 UEFI machine)'),
  tftpBlksizeCap: (value) =>
    Number.isInteger(value) && (value as number) >= 512 && (value as number) <= 65464
      ? undefined
      : 'use a block size from 512 to 65464, or remove the field to follow the interface MTU (1468 on Ethernet); above the MTU blocks travel as IP fragments',
};

/** Returns one line per bad field: `field: got X; fix: ...`. Unknown fields are reported too. */
export function validateSettings(raw: Record<string, unknown>, origin: string): string[] {
  const problems: string[] = [];
  for (const [field, value] of Object.entries(raw)) {
    const check = checks[field as keyof Settings];
    if (!check) {
      problems.push(`${origin}: unknown field "${field}"; fix: remove it (known fields: ${Object.keys(checks).join(', ')})`);
      continue;
    }
    if (value === undefined) continue;
    const fix = check(value);
    if (fix) problems.push(`${origin}: field "${field}" is ${JSON.stringify(value)}; fix: ${fix}`);
  }
  return problems;
}

export interface SettingsStore {
  readonly path: string;
  load(): Settings;
  save(changes: Partial<Settings>): void;
}

export function openSettings(dataDir: string): SettingsStore {
  const conf = openConfFile<Record<string, unknown>>(dataDir, 'settings', {});
  return {
    path: conf.path,
    load() {
      const raw = conf.store;
      const problems = validateSettings(raw, conf.path);
      if (problems.length) throw new ConfigFileError(problems.join('\n'));
      return { ...defaultSettings, ...(raw as Partial<Settings>) };
    },
    save(changes) {
      for (const [key, value] of Object.entries(changes)) {
        if (value === undefined) conf.delete(key);
        else conf.set(key, value);
      }
    },
  };
}
