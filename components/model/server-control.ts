/**
 * Settings applied live: save the changed fields to settings.json, stop the servers, start them again
 * from the new settings; if they will not start, put the old values back and start the old servers, so
 * a typo never leaves the bench without a DHCP server. The composition root supplies `configure`, which
 * turns saved settings (plus the command-line flags that still win) into a startable runtime.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { BootTarget } from '../../src/boot/boot-target.js';
import { defaultSettings, openSettings, routerLifetimeOf, validateSettings, type Settings } from '../../src/state/settings.js';

export interface RunningServers {
  close(): Promise<void>;
}

export interface RuntimeConfig {
  /** Effective settings: saved ones, with command-line flags over them. */
  readonly settings: Settings;
  /** Settings given as flags on the command line (they win over settings.json until changed here). */
  readonly flagged: readonly string[];
  readonly interfaceName: string;
  readonly serverAddress: string;
  /** Where the HTTP server is reached by machines: the base of every script URL. */
  readonly serverBase: string;
  readonly defaultTarget: BootTarget;
  start(): Promise<RunningServers>;
}

/** `savedWins`: settings changed in the console, which from then on beat the flags they were started with. */
export type Configure = (savedWins: ReadonlySet<string>) => RuntimeConfig;

/** The settings the console edits, in display order. */
export const editableSettings = ['interface', 'mode', 'pool', 'bootDir', 'httpPort', 'defaultTarget', 'leaseSeconds', 'raLifetime', 'controlPort', 'uefiBootProgram'] as const;
export type EditableSetting = (typeof editableSettings)[number];

export interface ApplyResult {
  readonly ok: boolean;
  readonly message: string;
}

export interface ServerControl {
  readonly dataDir: string;
  readonly settingsPath: string;
  config(): RuntimeConfig;
  isRunning(): boolean;
  apply(changes: Partial<Record<EditableSetting, unknown>>): Promise<ApplyResult>;
  shutdown(): Promise<void>;
  subscribe(listener: () => void): () => void;
  getVersion(): number;
}

export interface ServerControlOptions {
  readonly dataDir: string;
  readonly configure: Configure;
  readonly initial: { readonly config: RuntimeConfig; readonly servers: RunningServers };
  /** Told about each new configuration (the operator re-renders scripts against the new server base). */
  readonly onConfig?: (config: RuntimeConfig) => void;
}

function readRaw(path: string): Record<string, unknown> {
  if (!existsSync(path)) return {};
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function createServerControl(options: ServerControlOptions): ServerControl {
  const store = openSettings(options.dataDir);
  let config = options.initial.config;
  let servers: RunningServers | undefined = options.initial.servers;
  let savedWins = new Set<string>();
  let busy: Promise<unknown> = Promise.resolve();
  let version = 0;
  const listeners = new Set<() => void>();
  const changed = () => {
    version += 1;
    for (const listener of listeners) listener();
  };

  async function applyNow(changes: Partial<Record<EditableSetting, unknown>>): Promise<ApplyResult> {
    const fields = Object.keys(changes);
    if (fields.length === 0) return { ok: true, message: 'nothing changed' };
    const problems = validateSettings(changes as Record<string, unknown>, 'settings');
    if (problems.length > 0) return { ok: false, message: problems.join('; ') };
    // A lifetime is valid alone yet refused in proxy mode, as the servers' start refuses it: say so before restarting.
    const merged: Partial<Settings> = { ...config.settings, ...(changes as Partial<Settings>) };
    const lifetime = routerLifetimeOf({ mode: merged.mode ?? defaultSettings.mode, ...(merged.raLifetime !== undefined && { raLifetime: merged.raLifetime }) });
    if ('problem' in lifetime) return { ok: false, message: `not applied: ${lifetime.problem}` };
    const before = readRaw(store.path);
    const previousWins = savedWins;
    const rollback = () => {
      store.save(Object.fromEntries(fields.map((field) => [field, before[field]])) as Partial<Settings>);
      savedWins = previousWins;
    };
    let next: RuntimeConfig;
    try {
      store.save(changes as Partial<Settings>);
      savedWins = new Set([...savedWins, ...fields]);
      next = options.configure(savedWins);
    } catch (error) {
      rollback();
      return { ok: false, message: `not applied: ${errorText(error)}` };
    }
    await servers?.close();
    servers = undefined;
    changed();
    try {
      servers = await next.start();
      config = next;
      options.onConfig?.(config);
      changed();
      return { ok: true, message: `applied ${fields.join(', ')}; servers restarted` };
    } catch (error) {
      rollback();
      try {
        servers = await config.start();
        changed();
        return { ok: false, message: `not applied: ${errorText(error)}; the previous settings are back` };
      } catch (again) {
        changed();
        return { ok: false, message: `not applied: ${errorText(error)}; the previous settings failed too: ${errorText(again)}` };
      }
    }
  }

  return {
    dataDir: options.dataDir,
    settingsPath: store.path,
    config: () => config,
    isRunning: () => servers !== undefined,
    apply(changes) {
      // One restart at a time: a second apply waits for the first.
      const result = busy.then(() => applyNow(changes));
      busy = result.catch(() => undefined);
      return result;
    },
    async shutdown() {
      await busy;
      const running = servers;
      servers = undefined;
      await running?.close();
      changed();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    getVersion: () => version,
  };
}
