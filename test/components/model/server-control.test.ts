import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createServerControl, type RuntimeConfig } from '../../../components/model/server-control.js';
import { defaultSettings, type Settings } from '../../../src/state/settings.js';

describe('settings applied live', () => {
  let dataDir: string;
  const log: string[] = [];
  /** Starts to refuse, in order (each refuses once). */
  let refusals: string[] = [];
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'pxd-control-'));
    writeFileSync(join(dataDir, 'settings.json'), JSON.stringify({ httpPort: 8080 }));
    log.length = 0;
    refusals = [];
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  /** `--http-port 9000` was given on the command line: it wins until the console changes httpPort. */
  const configure = (savedWins: ReadonlySet<string>): RuntimeConfig => {
    const saved = JSON.parse(readFileSync(join(dataDir, 'settings.json'), 'utf8')) as Partial<Settings>;
    const flagWins = !savedWins.has('httpPort');
    const settings: Settings = { ...defaultSettings, ...saved, ...(flagWins && { httpPort: 9000 }) };
    return {
      settings,
      flagged: flagWins ? ['httpPort'] : [],
      interfaceName: 'lo',
      serverAddress: '127.0.0.1',
      serverBase: `http://127.0.0.1:${settings.httpPort}`,
      defaultTarget: { kind: 'local' },
      async start() {
        const refusal = refusals.shift();
        if (refusal) throw new Error(refusal);
        log.push(`start ${settings.mode} ${settings.httpPort}`);
        return { close: async () => void log.push(`close ${settings.mode} ${settings.httpPort}`) };
      },
    };
  };
  const open = () => {
    const config = configure(new Set());
    log.push(`start ${config.settings.mode} ${config.settings.httpPort}`);
    return createServerControl({ dataDir, configure, initial: { config, servers: { close: async () => void log.push('close initial') } } });
  };
  const saved = () => JSON.parse(readFileSync(join(dataDir, 'settings.json'), 'utf8')) as Record<string, unknown>;

  it('saves, closes the running servers, starts new ones; a changed setting beats its flag from then on', async () => {
    const control = open();
    expect(control.config().flagged).toEqual(['httpPort']);
    expect(await control.apply({ httpPort: 8181 })).toEqual({ ok: true, message: 'applied httpPort; servers restarted' });
    expect(saved()).toEqual({ httpPort: 8181 });
    expect(log).toEqual(['start proxy 9000', 'close initial', 'start proxy 8181']);
    expect(control.config().serverBase).toBe('http://127.0.0.1:8181');
    expect(control.config().flagged).toEqual([]);
  });

  it('refuses invalid values before touching anything', async () => {
    const control = open();
    const result = await control.apply({ mode: 'full', leaseSeconds: 5 });
    expect(result.ok).toBe(false);
    expect(result.message).toMatch(/field "mode" is "full"; fix: .*field "leaseSeconds" is 5; fix: use a whole number of seconds, at least 60/);
    expect(saved()).toEqual({ httpPort: 8080 });
    expect(log).toEqual(['start proxy 9000']);
  });

  it('rolls back to the previous settings when the new servers will not start', async () => {
    const control = open();
    refusals = ['UDP 67 in use by dnsmasq, pid 1234'];
    const result = await control.apply({ mode: 'dhcp', pool: '10.77.0.100-10.77.0.199' });
    expect(result).toEqual({ ok: false, message: 'not applied: UDP 67 in use by dnsmasq, pid 1234; the previous settings are back' });
    expect(log).toEqual(['start proxy 9000', 'close initial', 'start proxy 9000']);
    expect(saved()).toEqual({ httpPort: 8080 });
    expect(control.isRunning()).toBe(true);
    expect(control.config().settings.mode).toBe('proxy');
  });

  it('says so when the previous settings will not start again either', async () => {
    const control = open();
    refusals = ['UDP 67 in use', 'UDP 67 still in use'];
    const result = await control.apply({ mode: 'dhcp', pool: '10.77.0.100-10.77.0.199' });
    expect(result.message).toBe('not applied: UDP 67 in use; the previous settings failed too: UDP 67 still in use');
    expect(control.isRunning()).toBe(false);
  });

  it('shuts down once, after any apply in progress', async () => {
    const control = open();
    const applying = control.apply({ httpPort: 8282 });
    await control.shutdown();
    await applying;
    expect(log.at(-1)).toBe('close proxy 8282');
    expect(control.isRunning()).toBe(false);
  });
});
