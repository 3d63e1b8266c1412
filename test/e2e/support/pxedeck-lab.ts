/**
 * pxedeck running --headless in the lab's server namespace, with a data dir of its own, and the
 * helpers the firmware boot tests share: a router advertisement (so iPXE does not wait ~13 s for IPv6),
 * the lab kernel in quick mode, per-machine settings written before start.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PxedeckEvent } from '../../../src/servers/events.js';
import { PxedeckProcess } from '../../support/netns.js';
import { pxedeckCommand } from '../../support/pxedeck-command.js';
import { afterAll, beforeAll } from 'vitest';
import { ensureLabArtifacts, labKernelCmdline, missingLabFiles, type LabArtifacts } from '../lab/artifacts.js';
import { createLab, labTempDir, labUnavailableReason, type Lab, type Tap } from '../lab/network.js';
import { startDnsmasq } from '../lab/services.js';

export interface StartOptions {
  readonly mode: 'proxy' | 'dhcp';
  readonly args?: readonly string[];
  /** Written into the data dir before start: clients.json (per-MAC policies), assignments.json. */
  readonly clients?: Record<string, unknown>;
  readonly assignments?: Record<string, unknown>;
  readonly settings?: Record<string, unknown>;
  /** Boot the lab kernel on every machine (quick mode) with this marker. */
  readonly marker?: string;
  /** Writes more into the data dir before start (profiles/, menus/, boot/). */
  readonly prepare?: (dataDir: string) => void;
}

export interface LabPxedeck {
  readonly process: PxedeckProcess;
  readonly dataDir: string;
  readonly artifacts: LabArtifacts;
  /** curl arguments that authenticate to its control API on 127.0.0.1:7411 (the token pxedeck made in its data dir). */
  controlAuth(): string[];
  events(): readonly PxedeckEvent[];
  waitFor<T extends PxedeckEvent = PxedeckEvent>(test: (event: PxedeckEvent) => boolean, what: string, timeoutMs?: number): Promise<T>;
  stop(): Promise<void>;
}

/** The lab kernel's command line; pxedeck adds the initrd= its renderer names. */
export function markerCmdline(marker: string): string {
  return labKernelCmdline(marker).replace(/^initrd=\S+ /, '');
}

export async function startPxedeck(lab: Lab, options: StartOptions): Promise<LabPxedeck> {
  const artifacts = await ensureLabArtifacts();
  const dataDir = labTempDir(lab, `pxedeck-${options.mode}-${Math.random().toString(36).slice(2, 8)}`);
  mkdirSync(dataDir, { recursive: true });
  if (options.clients) writeFileSync(join(dataDir, 'clients.json'), JSON.stringify(options.clients));
  if (options.assignments) writeFileSync(join(dataDir, 'assignments.json'), JSON.stringify(options.assignments));
  if (options.settings) writeFileSync(join(dataDir, 'settings.json'), JSON.stringify(options.settings));
  options.prepare?.(dataDir);
  const args = [
    ...pxedeckCommand(),
    '--headless',
    '--interface',
    lab.server.iface,
    '--mode',
    options.mode,
    '--data-dir',
    dataDir,
    ...(options.mode === 'dhcp' ? ['--pool', '10.77.0.100-10.77.0.199', '--probe-ms', '1500'] : []),
    ...(options.marker ? ['--kernel', artifacts.kernel, '--initrd', artifacts.initrd, '--cmdline', markerCmdline(options.marker)] : []),
    ...(options.args ?? []),
  ];
  const child = spawn('ip', ['netns', 'exec', lab.server.ns, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const pxedeck = new PxedeckProcess(`pxedeck-${options.mode}`, child);
  try {
    await pxedeck.listening(20_000);
  } catch (error) {
    await pxedeck.stop();
    throw error;
  }
  return {
    process: pxedeck,
    dataDir,
    artifacts,
    controlAuth: () => ['-H', `authorization: Bearer ${readFileSync(join(dataDir, 'control-token'), 'utf8').trim()}`],
    events: () => pxedeck.events,
    waitFor: (test, what, timeoutMs = 60_000) => pxedeck.waitForEvent(test, what, timeoutMs),
    stop: async () => {
      await pxedeck.stop();
    },
  };
}

/** A router advertisement on the segment from a separate box (pxedeck's own RAs come with IPv6 support). */
export async function startRouterAdvertisements(lab: Lab): Promise<() => Promise<void>> {
  const host = await lab.addHost({ ip4: '10.77.0.250', ip6: 'fd77::250', label: 'ra' });
  const dnsmasq = await startDnsmasq(lab, host, ['--enable-ra', `--dhcp-range=::,constructor:${host.iface},ra-only`], 'ra');
  return () => dnsmasq.stop();
}

/** Why the VM lab cannot run here (not root, a package missing), or undefined when it can. */
export function labSkipReason(): string | undefined {
  const missing = missingLabFiles();
  return labUnavailableReason() ?? (missing.length > 0 ? `missing ${missing.join(', ')}` : undefined);
}

/** One lab for the whole test file, with a router advertising on it, torn down after the last test. */
export function sharedLab(): { readonly lab: Lab } {
  let lab: Lab | undefined;
  let stopRa: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    lab = await createLab();
    stopRa = await startRouterAdvertisements(lab);
  }, 60_000);
  afterAll(async () => {
    await stopRa?.();
    await lab?.destroy();
  });
  return {
    get lab() {
      if (!lab) throw new Error('the lab is not up: sharedLab() must be called in a describe block');
      return lab;
    },
  };
}

/** The rows the console shows, as the control API lists them (its first page: the lab has a handful of machines). */
export async function clientRows<Row = { mac: string; stage: string; ip?: string; firmware?: string; cycles: number }>(lab: Lab, pxedeck: LabPxedeck): Promise<Row[]> {
  const result = await lab.exec(lab.server.ns, 'curl', ['-sS', '--max-time', '5', ...pxedeck.controlAuth(), 'http://127.0.0.1:7411/v1/clients']);
  return (JSON.parse(result.stdout) as { clients: Row[] }).clients;
}

/** No IPv4 to or from this tap: an nftables bridge filter in the lab's switch namespace. */
export async function ipv6OnlyTap(lab: Lab, tap: Tap): Promise<void> {
  const rules = `table bridge pxdv6${tap.name.slice(-4)} {
  chain forward {
    type filter hook forward priority 0; policy accept;
    iifname "${tap.name}" ether type { ip, arp } drop
    oifname "${tap.name}" ether type { ip, arp } drop
  }
}`;
  await lab.exec(tap.ns, 'sh', ['-c', `printf '%s\\n' '${rules}' | nft -f -`]);
}

/** The lab server with or without its IPv4 address (10.77.0.1/24): an IPv6-only bench port, or a dual-stack one. */
export async function serverIpv4(lab: Lab, present: boolean): Promise<void> {
  const args = present ? ['addr', 'replace', '10.77.0.1/24', 'dev', lab.server.iface] : ['-4', 'addr', 'flush', 'dev', lab.server.iface];
  await lab.exec(lab.server.ns, 'ip', args);
}
