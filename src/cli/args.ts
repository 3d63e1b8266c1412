/** Command-line flags: parsed strictly, every mistake reported with the fix. */
import { isIPv6 } from 'node:net';
import { parseArgs } from 'node:util';
import ipaddr from '../protocol/ipaddr.js';
import { routerLifetimeProblem } from '../servers/ra/router-lifetime.js';

export const usage = `pxedeck — network-boot machines from a terminal console

Usage: pxedeck [options]

  --interface NAME     the bench interface to serve on (asked for when several exist)
  --mode proxy|dhcp    proxy (default): proxyDHCP beside the site's DHCP server;
                       dhcp: full DHCP with a pool, for an isolated bench switch
  --pool FIRST-LAST    full DHCP address pool, e.g. 10.0.0.100-10.0.0.199
  --pool6 FIRST-LAST   with --mode dhcp: a DHCPv6 address pool, e.g. fd77::100-fd77::1ff
                       (without it DHCPv6 hands out boot options only)
  --ra-lifetime N      router lifetime in seconds of pxedeck's own RAs (sent only when no
                       router answers): 0 or 11-9000; default 0 in proxy mode (never a
                       default router there), 30 in dhcp mode (OVMF's PXEv6 waits ~10 s
                       for a default router)
  --boot-dir DIR       boot files (iPXE, PXELINUX, kernels); Debian package paths are searched too
  --data-dir DIR       where settings, assignments and leases are kept
  --http-port N        HTTP port for iPXE scripts and boot files (default 80)
  --syslog-port N      syslog receiver for iPXE (DHCP option 7) and installers (default 514)
  --kernel FILE|URL    quick mode: boot this kernel on every machine (with --initrd, --cmdline)
  --initrd FILE|URL    an initrd for quick mode (repeatable)
  --cmdline "..."      the kernel command line for quick mode (with --iso: arguments added)
  --iso FILE           quick mode: boot this installer ISO on every machine, as it is
                       (ISOs in the boot directory and DATA-DIR/isos/ are profiles too)
  --headless           no console: one JSON object per event on stdout
  --new-macs-per-second N
                       full DHCP: machines never seen before answered per second, 4×N at
                       once (default 50, so 200 at once); 0 = no limit
  --dhcp-warm-up N     DHCP exchanges run over loopback right after start, so a burst of
                       new machines is answered at full speed from the first second
                       (default 5000 in full DHCP with --new-macs-per-second 0 or >= 1000,
                       else 0 = none)
  --force              start full DHCP even though another DHCP server answered the probe
  --allow-dhcp-on-uplink
                       start full DHCP on an interface that holds the default route (only
                       when that network is yours and isolated: elsewhere it is a rogue
                       DHCP server handing out wrong addresses to everyone)
  --help               this text

Subcommands:
  pxedeck assign MAC PROFILE [--once] ...   record what a machine boots (pxedeck assign --help)
  pxedeck explain --mac MAC --arch N [--user-class iPXE]   what this machine gets at each stage now
  pxedeck report MAC [--json]               one machine's timeline from the event log

Ports for tests and unprivileged runs:
  --dhcp-port N --boot-server-port N --dhcp-client-port N --tftp-port N   (0 = any free port)
`;

export interface CliOptions {
  readonly interface?: string;
  readonly mode?: 'proxy' | 'dhcp';
  readonly pool?: string;
  readonly pool6?: { readonly first: string; readonly last: string };
  readonly raLifetime?: number;
  readonly bootDir?: string;
  readonly dataDir?: string;
  readonly httpPort?: number;
  readonly headless: boolean;
  /** Full DHCP on the interface with the default route, confirmed by the operator. */
  readonly allowDhcpOnUplink?: boolean;
  readonly force: boolean;
  readonly help: boolean;
  readonly dhcpPort?: number;
  readonly bootServerPort?: number;
  readonly dhcpClientPort?: number;
  readonly tftpPort?: number;
  readonly syslogPort?: number;
  readonly probeMs?: number;
  /** Full DHCP: new MACs answered per second; 0 turns the limit off. */
  readonly newMacsPerSecond?: number;
  /** DHCP exchanges run over loopback at start (0: none); the default when absent. */
  readonly dhcpWarmUp?: number;
  readonly kernel?: string;
  readonly initrds?: readonly string[];
  readonly cmdline?: string;
  /** Quick mode from an ISO image. */
  readonly iso?: string;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

function port(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value > 65535) throw new UsageError(`--${flag} ${text}: use a port number from 0 to 65535`);
  return value;
}

/** `FIRST-LAST`: IPv6 addresses hold no `-`, so the one dash splits them. */
function pool6(text: string): { first: string; last: string } {
  const [first = '', last = '', ...rest] = text.split('-').map((part) => part.trim());
  if (rest.length > 0 || !isIPv6(first) || !isIPv6(last)) throw new UsageError(`--pool6 ${text}: use FIRST-LAST IPv6 addresses, e.g. fd77::100-fd77::1ff`);
  if (compareIpv6(first, last) > 0) throw new UsageError(`--pool6 ${text}: ${first} comes after ${last}; give the lower address first`);
  return { first, last };
}

function raLifetime(text: string): number {
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  const problem = routerLifetimeProblem(value);
  if (problem) throw new UsageError(`--ra-lifetime ${text}: ${problem}`);
  return value;
}

function compareIpv6(a: string, b: string): number {
  const hex = (address: string) => Buffer.from(ipaddr.IPv6.parse(address).toByteArray()).toString('hex');
  return hex(a).localeCompare(hex(b));
}

export function parseCli(argv: readonly string[]): CliOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        interface: { type: 'string', short: 'i' },
        mode: { type: 'string' },
        pool: { type: 'string' },
        pool6: { type: 'string' },
        'ra-lifetime': { type: 'string' },
        'boot-dir': { type: 'string' },
        'data-dir': { type: 'string' },
        'http-port': { type: 'string' },
        headless: { type: 'boolean', default: false },
        force: { type: 'boolean', default: false },
        'allow-dhcp-on-uplink': { type: 'boolean' },
        help: { type: 'boolean', short: 'h', default: false },
        'dhcp-port': { type: 'string' },
        'boot-server-port': { type: 'string' },
        'dhcp-client-port': { type: 'string' },
        'tftp-port': { type: 'string' },
        'syslog-port': { type: 'string' },
        'probe-ms': { type: 'string' },
        'new-macs-per-second': { type: 'string' },
        'dhcp-warm-up': { type: 'string' },
        kernel: { type: 'string' },
        initrd: { type: 'string', multiple: true },
        cmdline: { type: 'string' },
        iso: { type: 'string' },
      },
    });
  } catch (error) {
    throw new UsageError(`${error instanceof Error ? error.message : String(error)}; see pxedeck --help`);
  }
  const { values } = parsed;
  const mode = values.mode;
  if (mode !== undefined && mode !== 'proxy' && mode !== 'dhcp') {
    throw new UsageError(`--mode ${mode}: use "proxy" (beside an existing DHCP server) or "dhcp" (full DHCP with --pool)`);
  }
  const probe = values['probe-ms'];
  if (probe !== undefined && !/^\d+$/.test(probe)) throw new UsageError(`--probe-ms ${probe}: use milliseconds, e.g. 2000`);
  const newMacs = values['new-macs-per-second'];
  if (newMacs !== undefined && !/^\d{1,6}$/.test(newMacs)) {
    throw new UsageError(`--new-macs-per-second ${newMacs}: use a whole number of machines a second, e.g. 50, or 0 for no limit`);
  }
  const warmUp = values['dhcp-warm-up'];
  if (warmUp !== undefined && !/^\d{1,6}$/.test(warmUp)) {
    throw new UsageError(`--dhcp-warm-up ${warmUp}: use a whole number of exchanges, e.g. 2000, or 0 for none`);
  }
  const result: CliOptions = {
    headless: values.headless ?? false,
    force: values.force ?? false,
    help: values.help ?? false,
    ...(values['allow-dhcp-on-uplink'] && { allowDhcpOnUplink: true }),
    ...(values.interface !== undefined && { interface: values.interface }),
    ...(mode !== undefined && { mode }),
    ...(values.pool !== undefined && { pool: values.pool }),
    ...(values.pool6 !== undefined && { pool6: pool6(values.pool6) }),
    ...(values['ra-lifetime'] !== undefined && { raLifetime: raLifetime(values['ra-lifetime']) }),
    ...(values['boot-dir'] !== undefined && { bootDir: values['boot-dir'] }),
    ...(values['data-dir'] !== undefined && { dataDir: values['data-dir'] }),
    ...(values.kernel !== undefined && { kernel: values.kernel }),
    ...(values.initrd !== undefined && { initrds: values.initrd }),
    ...(values.cmdline !== undefined && { cmdline: values.cmdline }),
    ...(values.iso !== undefined && { iso: values.iso }),
  };
  if (values.iso !== undefined && (values.kernel !== undefined || values.initrd)) {
    throw new UsageError('--iso boots the kernel and initrd inside the ISO: leave out --kernel and --initrd (--cmdline adds arguments)');
  }
  if (values.iso !== undefined && !/\.iso$/i.test(values.iso)) throw new UsageError(`--iso ${values.iso}: give the path of an .iso file`);
  if (!values.kernel && !values.iso && (values.initrd || values.cmdline !== undefined)) {
    throw new UsageError('--initrd and --cmdline belong to quick mode: add --kernel FILE|URL');
  }
  const ports = {
    httpPort: port('http-port', values['http-port']),
    dhcpPort: port('dhcp-port', values['dhcp-port']),
    bootServerPort: port('boot-server-port', values['boot-server-port']),
    dhcpClientPort: port('dhcp-client-port', values['dhcp-client-port']),
    tftpPort: port('tftp-port', values['tftp-port']),
    syslogPort: port('syslog-port', values['syslog-port']),
    probeMs: probe === undefined ? undefined : Number(probe),
    newMacsPerSecond: newMacs === undefined ? undefined : Number(newMacs),
    dhcpWarmUp: warmUp === undefined ? undefined : Number(warmUp),
  };
  return Object.fromEntries(Object.entries({ ...result, ...ports }).filter(([, value]) => value !== undefined)) as unknown as CliOptions;
}
