/** A console world for component tests: a real operator over a temp data dir, a real feed, scripted events. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BootTarget } from '../../../src/boot/boot-target.js';
import { parseMac, type Mac } from '../../../src/protocol/mac.js';
import type { PxedeckEvent } from '../../../src/state/events.js';
import { openOperator, type Operator } from '../../../src/state/operator.js';
import { defaultSettings, type Settings } from '../../../src/state/settings.js';
import { createConsoleFeed, type ConsoleFeed } from '../../../components/model/console-feed.js';
import { createServerControl, type RuntimeConfig, type ServerControl } from '../../../components/model/server-control.js';

export const presetsDir = resolve(import.meta.dirname, '../../../presets');

export interface ConsoleFixture {
  readonly dataDir: string;
  readonly feed: ConsoleFeed;
  readonly operator: Operator;
  readonly control: ServerControl;
  /** Each start of the stand-in servers, with the settings it was started from. */
  readonly starts: Settings[];
  /** Makes the next start fail with this message (a port in use…). */
  failNextStart(message: string): void;
  close(): void;
}

export function mac(text: string): Mac {
  return parseMac(text)!;
}

/**
 * The server side is a stand-in that records its starts: component tests exercise the console's restart
 * logic (save, restart, roll back), not sockets; the tmux test runs the real servers.
 */
export function createConsoleFixture(options: { readonly settings?: Record<string, unknown>; readonly defaultTarget?: BootTarget } = {}): ConsoleFixture {
  const dataDir = mkdtempSync(join(tmpdir(), 'pxd-console-'));
  writeFileSync(join(dataDir, 'settings.json'), JSON.stringify({ controlPort: 0, ...options.settings }));
  const starts: Settings[] = [];
  let failure: string | undefined;
  const defaultTarget: BootTarget = options.defaultTarget ?? { kind: 'menu', menu: 'default' };
  const configure = (): RuntimeConfig => {
    // Read fresh each time: the settings file changes under the test.
    const saved = JSON.parse(readFileSync(join(dataDir, 'settings.json'), 'utf8')) as Partial<Settings>;
    const settings: Settings = { ...defaultSettings, ...saved };
    return {
      settings,
      flagged: [],
      interfaceName: settings.interface ?? 'lo',
      serverAddress: '127.0.0.1',
      serverBase: `http://127.0.0.1:${settings.httpPort}`,
      defaultTarget,
      async start() {
        if (failure) {
          const message = failure;
          failure = undefined;
          throw new Error(message);
        }
        starts.push(settings);
        return { close: async () => undefined };
      },
    };
  };
  const initialConfig = configure();
  starts.push(initialConfig.settings);
  const feed = createConsoleFeed();
  const operator = openOperator({ dataDir, presetsDir, serverBase: initialConfig.serverBase, defaultTarget });
  const control = createServerControl({
    dataDir,
    configure,
    initial: { config: initialConfig, servers: { close: async () => undefined } },
    onConfig: (config) => operator.reconfigure({ serverBase: config.serverBase, defaultTarget: config.defaultTarget }),
  });
  return {
    dataDir,
    feed,
    operator,
    control,
    starts,
    failNextStart(message) {
      failure = message;
    },
    close() {
      operator.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The events of a machine booting BIOS → undionly.kpxe → iPXE → script → kernel, up to `until`. */
export function bootEvents(
  who: Mac,
  start: number,
  until: 'dhcp' | 'nbp' | 'nbp-half' | 'ipxe' | 'script' | 'kernel-half' | 'booted',
  ip = '10.77.0.50',
): PxedeckEvent[] {
  const events: PxedeckEvent[] = [];
  let time = start;
  const at = (ms: number) => (time += ms);
  events.push({
    kind: 'dhcp.received', time: at(0), source: 'dhcp4', mac: who, messageType: 'DISCOVER', xid: 1, peer: '0.0.0.0:68',
    summary: 'DISCOVER from BIOS PXE', client: 'BIOS PXE', options: { '60:vendor-class': 'PXEClient:Arch:00000:UNDI:002001', '93:client-arch': ['0 (x86 BIOS)'] },
  });
  events.push({ kind: 'dhcp.sent', time: at(5), source: 'dhcp4', mac: who, messageType: 'OFFER', xid: 1, peer: '255.255.255.255:68', summary: 'proxy offer', options: { '67:bootfile-name': 'undionly.kpxe' }, bootFile: 'undionly.kpxe' });
  if (until === 'dhcp') return events;
  const size = 100_000;
  events.push({ kind: 'transfer.start', time: at(200), source: 'tftp', mac: who, ip, file: 'undionly.kpxe', bytes: 0, size, options: { blksize: 1432, tsize: size } });
  events.push({ kind: 'transfer.progress', time: at(250), source: 'tftp', mac: who, ip, file: 'undionly.kpxe', bytes: size / 2, size, rate: 200_000 });
  if (until === 'nbp-half') return events;
  events.push({ kind: 'transfer.done', time: at(250), source: 'tftp', mac: who, ip, file: 'undionly.kpxe', bytes: size, size, durationMs: 500, rate: 200_000 });
  if (until === 'nbp') return events;
  events.push({
    kind: 'dhcp.received', time: at(1500), source: 'dhcp4', mac: who, messageType: 'DISCOVER', xid: 2, peer: '0.0.0.0:68',
    summary: 'DISCOVER from iPXE', client: 'iPXE x86 BIOS', options: { '77:user-class': 'iPXE' },
  });
  if (until === 'ipxe') return events;
  events.push({ kind: 'http.request', time: at(300), source: 'http', mac: who, ip, method: 'GET', path: '/ipxe', status: 200, route: 'script', bytes: 420 });
  if (until === 'script') return events;
  events.push({ kind: 'transfer.start', time: at(50), source: 'http', mac: who, ip, file: 'vmlinuz', bytes: 0, size: 8_000_000 });
  events.push({ kind: 'transfer.progress', time: at(1000), source: 'http', mac: who, ip, file: 'vmlinuz', bytes: 4_000_000, size: 8_000_000, rate: 4_000_000 });
  if (until === 'kernel-half') return events;
  events.push({ kind: 'transfer.done', time: at(1000), source: 'http', mac: who, ip, file: 'vmlinuz', bytes: 8_000_000, size: 8_000_000, rate: 4_000_000, durationMs: 2000 });
  events.push({ kind: 'boot.beacon', time: at(500), source: 'http', mac: who, ip, beacon: 'booted' });
  return events;
}
