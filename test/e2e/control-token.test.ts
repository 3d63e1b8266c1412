/**
 * The control API always wants a token, and the data dir is the operator's alone: the real CLI
 * (`--headless`, proxy mode, in a namespace) started on a data dir an older pxedeck left world-readable,
 * then again on the same dir. Checked from the outside: file modes, what stdout and the event log hold,
 * and curl against 127.0.0.1:7411 inside the namespace.
 */
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NoticeEvent } from '../../src/servers/events.js';
import { NetnsLab, netnsUnavailableReason, type PxedeckProcess } from '../support/netns.js';

const skipReason = netnsUnavailableReason(['curl']);
const API = 'http://127.0.0.1:7411';

function modeOf(path: string): number {
  return statSync(path).mode & 0o777;
}

/** Every file and directory below `dir` (not following links), boot/ left out: the operator's. */
function tree(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (prefix === '' && entry.name === 'boot') return [];
    const name = `${prefix}${entry.name}`;
    return entry.isDirectory() ? [name, ...tree(join(dir, entry.name), `${name}/`)] : [name];
  });
}

describe.skipIf(skipReason !== undefined)(`the control API's token and the data dir's modes${skipReason ? ` — skipped: ${skipReason}` : ''}`, () => {
  let lab: NetnsLab;
  let ns: string;
  let dataDir: string;

  beforeAll(() => {
    lab = new NetnsLab('g');
    try {
      ns = lab.namespace('laptop');
      const peer = lab.namespace('bench');
      lab.veth({ ns, name: 'bench0', address: '10.77.0.1/24' }, { ns: peer, name: 'eth0' });
      // What an older pxedeck left: a world-readable data dir and settings.
      dataDir = join(lab.dir, 'data');
      mkdirSync(dataDir, { mode: 0o755 });
      chmodSync(dataDir, 0o755);
      writeFileSync(join(dataDir, 'settings.json'), '{}\n', { mode: 0o644 });
      chmodSync(join(dataDir, 'settings.json'), 0o644);
    } catch (error) {
      lab.destroySync();
      throw error;
    }
  });

  afterAll(async () => {
    await lab?.destroy();
  });

  const start = async (): Promise<PxedeckProcess> => {
    const pxedeck = lab.pxedeck(ns, ['--interface', 'bench0', '--mode', 'proxy', '--data-dir', dataDir]);
    await pxedeck.waitForEvent((event) => event.kind === 'server.listening' && 'server' in event && event.server === 'control', 'control API listening', 20_000);
    return pxedeck;
  };
  const curl = async (...args: string[]) => (await lab.exec(ns, 'curl', ['-sS', '--max-time', '5', '-w', ' %{http_code}', ...args])).stdout;
  const notices = (pxedeck: PxedeckProcess) => pxedeck.events.filter((event): event is NoticeEvent => event.kind === 'notice').map((event) => event.message);

  it('makes a token on first start, shows it once on stdout, keeps it 0600 in a dir made 0700, and wants it on every request', { timeout: 60_000 }, async () => {
    const pxedeck = await start();
    const shown = notices(pxedeck).find((message) => message.startsWith('control API token, made now and shown once: '));
    expect(shown).toBeDefined();
    const token = /shown once: (\S+)/.exec(shown!)![1]!;
    expect(readFileSync(join(dataDir, 'control-token'), 'utf8')).toBe(`${token}\n`);
    expect(token.length).toBeGreaterThanOrEqual(40);
    expect(modeOf(join(dataDir, 'control-token'))).toBe(0o600);
    expect(modeOf(dataDir)).toBe(0o700);
    expect(modeOf(join(dataDir, 'settings.json'))).toBe(0o600);
    expect(notices(pxedeck)).toEqual(
      expect.arrayContaining([
        `data dir ${dataDir} was readable by other users (mode 0755): now 0700`,
        `1 of pxedeck's files in ${dataDir} were readable by other users, now owner-only: settings.json`,
      ]),
    );

    expect(await curl(`${API}/v1/clients`)).toMatch(/ 401$/);
    expect(await curl('-H', 'authorization: Bearer not-the-token-at-all', `${API}/v1/clients`)).toMatch(/ 401$/);
    expect(await curl('-H', `authorization: Bearer ${token}`, `${API}/v1/clients`)).toMatch(/^{"clients":\[.*} 200$/);
    const outside = await curl('-X', 'POST', '-H', `authorization: Bearer ${token}`, '-H', 'content-type: application/json', '-d', '{"kernel":"/etc/shadow"}', `${API}/v1/clients/52:54:00:00:00:99/assign`);
    expect(outside).toMatch(/\\"kernel\\": \/etc\/shadow is outside the boot directory.* 400$/);

    await pxedeck.stop();
    // The token is in its file only: never in the event log a bug report may carry.
    const logged = readdirSync(join(dataDir, 'events')).map((file) => readFileSync(join(dataDir, 'events', file), 'utf8')).join('');
    expect(logged).toContain('every request needs the bearer token in');
    expect(logged).not.toContain(token);
    // Everything pxedeck wrote is its owner's alone.
    const loose = tree(dataDir).filter((name) => (modeOf(join(dataDir, name)) & 0o077) !== 0);
    expect(loose).toEqual([]);

    const again = await start();
    expect(notices(again).some((message) => message.includes('made now'))).toBe(false);
    expect(await curl('-H', `authorization: Bearer ${token}`, `${API}/v1/clients`)).toMatch(/ 200$/);
    await again.stop();
  });
});
