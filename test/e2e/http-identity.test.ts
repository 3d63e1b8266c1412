/**
 * A request speaks only for its own machine: the real CLI (`--headless`, proxy mode) in a namespace, and a
 * machine on the bench link asking its HTTP server as another machine (the victim). The network's word about
 * the asker is the kernel's neighbour table, filled by the TCP handshake itself, so nothing here is faked.
 * The victim's boot-once survives a forged `/booted`, its script is not handed out, the asker's own hold is
 * not bypassed with `&profile=`, and the asker's address is never tied to the victim's MAC.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpRequestEvent } from '../../src/servers/events.js';
import { NetnsLab, netnsUnavailableReason, repoRoot, type PxedeckProcess } from '../support/netns.js';

const skipReason = netnsUnavailableReason(['curl']);
const SERVER = '10.77.0.1';
const ASKER = { ip: '10.77.0.60', mac: '02:77:00:00:00:60' };
const VICTIM = '52:54:00:00:0b:0b';

describe.skipIf(skipReason !== undefined)(`HTTP requests speak only for their own machine${skipReason ? ` — skipped: ${skipReason}` : ''}`, () => {
  let lab: NetnsLab;
  const ns = { laptop: '', machine: '' };
  let dataDir: string;
  let pxedeck: PxedeckProcess;

  beforeAll(async () => {
    lab = new NetnsLab('g');
    try {
      ns.laptop = lab.namespace('laptop');
      ns.machine = lab.namespace('machine');
      lab.veth({ ns: ns.laptop, name: 'bench0', address: `${SERVER}/24` }, { ns: ns.machine, name: 'eth0', address: `${ASKER.ip}/24`, mac: ASKER.mac });
      dataDir = join(lab.dir, 'data');
      const assign = (...args: string[]) => execFileSync(process.execPath, [join(repoRoot, 'bin', 'pxedeck.js'), 'assign', ...args, '--data-dir', dataDir], { encoding: 'utf8' });
      assign(VICTIM, 'alpine', '--once');
      assign(ASKER.mac, '--hold');
      pxedeck = lab.pxedeck(ns.laptop, ['--interface', 'bench0', '--mode', 'proxy', '--data-dir', dataDir]);
      await pxedeck.waitForEvent((event) => event.kind === 'server.listening' && event.source === 'http' && 'server' in event && event.server === 'http', 'http listening', 20_000);
    } catch (error) {
      await lab.destroy();
      throw error;
    }
  }, 60_000);

  afterAll(async () => {
    await lab?.destroy();
  });

  const get = async (path: string) => {
    const result = await lab.exec(ns.machine, 'curl', ['-sS', '--max-time', '5', '-w', '\n%{http_code}', `http://${SERVER}${path}`]);
    const cut = result.stdout.lastIndexOf('\n');
    return { status: Number(result.stdout.slice(cut + 1)), body: result.stdout.slice(0, cut).trimEnd() };
  };
  const victimAssignment = () => (JSON.parse(readFileSync(join(dataDir, 'assignments.json'), 'utf8')) as Record<string, { consumedAt?: number }>)[VICTIM];
  const requests = () => pxedeck.events.filter((event): event is HttpRequestEvent => event.kind === 'http.request');

  it('refuses a beacon, a script and a binding for another MAC, and an override of its own hold', { timeout: 60_000 }, async () => {
    const conflict = `asked as ${VICTIM}, but the network says ${ASKER.ip} is ${ASKER.mac}: a request speaks only for its own machine`;

    const booted = await get(`/booted?mac=${VICTIM}`);
    expect(booted).toEqual({ status: 403, body: conflict });
    expect(victimAssignment()).toMatchObject({ once: true });
    expect(victimAssignment()?.consumedAt).toBeUndefined();

    const script = await get(`/ipxe?mac=${VICTIM}`);
    expect(script).toEqual({ status: 403, body: conflict });
    expect(script.body).not.toContain('vmlinuz');

    // Its own MAC is held: a menu selection sent back by hand does not release it.
    const own = await get(`/ipxe?mac=${ASKER.mac}&profile=alpine`);
    expect(own.status).toBe(200);
    expect(own.body).toMatch(/is held/);
    expect(own.body).not.toContain('vmlinuz');
    expect((await get('/ipxe')).body).toMatch(/is held/);

    await get(`/files/anything?mac=${VICTIM}`);
    await pxedeck.waitUntil(() => requests().length >= 5, 'five requests logged', 5000);
    // Every request from the asker is counted to the asker; none ties its address to the victim.
    expect(requests().filter((event) => event.ip === ASKER.ip).map((event) => event.mac)).toEqual(Array(5).fill(ASKER.mac));
    expect(requests().filter((event) => event.status === 403).map((event) => event.reason)).toEqual([conflict, conflict]);
    expect(requests().find((event) => event.path === '/ipxe' && event.status === 200)?.reason).toBe('menu selection "alpine" not used: this machine\'s target is hold, not a menu');
    expect(pxedeck.events.filter((event) => event.mac === VICTIM)).toEqual([]);
  });
});
