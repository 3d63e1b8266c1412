/**
 * Leases survive kill -9: 40 busybox udhcpc clients (one macvlan each, in a client namespace) ask the real
 * CLI in full DHCP mode for addresses at once; pxedeck is killed with SIGKILL in the middle of the burst.
 * Every lease a client was ACKed must be on disk after the kill, and after a restart no address may go to
 * two machines, whether the clients come back or new ones arrive.
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLeaseFile } from '../../src/state/lease-file.js';
import { NetnsLab, netnsUnavailableReason, sleep, type NsProcess, type PxedeckProcess } from '../support/netns.js';

const skipReason = netnsUnavailableReason(['udhcpc']);

const SERVER = '10.77.0.1';
const POOL = '10.77.0.100-10.77.0.199';
const CLIENTS = 40;
const macOf = (n: number) => `02:77:00:00:01:${n.toString(16).padStart(2, '0')}`;

describe.skipIf(skipReason !== undefined)('full DHCP leases survive kill -9 in the middle of a burst', () => {
  let lab: NetnsLab;
  let serverNs: string;
  let clientNs: string;
  let dataDir: string;
  /** Where each round's script records the leases its clients were ACKed. */
  const rounds = { first: { dir: '', script: '' }, second: { dir: '', script: '' } };
  let pxedeck: PxedeckProcess | undefined;

  const startPxedeck = () =>
    lab.pxedeck(serverNs, ['--interface', 'srv0', '--mode', 'dhcp', '--pool', POOL, '--data-dir', dataDir, '--probe-ms', '300']);

  /** udhcpc on macvlan `m<n>`: a few DISCOVERs a second apart, then it gives up; the script records a lease. */
  const udhcpc = (n: number, round: keyof typeof rounds): NsProcess =>
    lab.spawn(clientNs, 'udhcpc', ['-f', '-q', '-n', '-i', `m${n}`, '-s', rounds[round].script, '-t', '4', '-T', '1'], `udhcpc m${n}`);

  /** MAC → address of every client whose script ran "bound" (it got an ACK) in that round. */
  function bound(round: keyof typeof rounds): Map<string, string> {
    const boundDir = rounds[round].dir;
    return new Map(
      readdirSync(boundDir)
        .filter((name) => !name.endsWith('.tmp'))
        .map((name) => {
        const [mac, ip] = readFileSync(join(boundDir, name), 'utf8').trim().split(' ') as [string, string];
        return [mac, ip];
      }),
    );
  }

  beforeAll(() => {
    lab = new NetnsLab('d');
    try {
      serverNs = lab.namespace('srv');
      clientNs = lab.namespace('cli');
      lab.veth({ ns: serverNs, name: 'srv0', address: `${SERVER}/24` }, { ns: clientNs, name: 'cli0' });
      for (let n = 0; n < CLIENTS; n += 1) {
        lab.ip(clientNs, 'link', 'add', 'link', 'cli0', 'name', `m${n}`, 'address', macOf(n), 'type', 'macvlan', 'mode', 'bridge');
        lab.ip(clientNs, 'link', 'set', `m${n}`, 'up');
      }
      dataDir = join(lab.dir, 'data');
      for (const [name, round] of Object.entries(rounds)) {
        round.dir = join(lab.dir, `bound-${name}`);
        round.script = join(lab.dir, `udhcpc-${name}.script`);
        mkdirSync(round.dir);
        const record = `${round.dir}/$interface`;
        writeFileSync(
          round.script,
          ['#!/bin/sh', 'if [ "$1" = bound ]; then', `  echo "$(cat /sys/class/net/$interface/address) $ip" > ${record}.tmp && mv ${record}.tmp ${record}`, 'fi', ''].join('\n'),
        );
        chmodSync(round.script, 0o755);
      }
    } catch (error) {
      lab.destroySync();
      throw error;
    }
  });

  afterAll(async () => {
    await lab?.destroy();
  });

  it('every ACKed lease is on disk after kill -9, and a restart hands no address out twice', { timeout: 90_000 }, async () => {
    pxedeck = startPxedeck();
    await pxedeck.listening();

    const clients = Array.from({ length: CLIENTS }, (_, n) => udhcpc(n, 'first'));
    // Killed while the burst is under way: some clients have their ACK, others are still asking.
    const deadline = Date.now() + 30_000;
    while (bound('first').size < CLIENTS / 4 && Date.now() < deadline) await sleep(5);
    await pxedeck.stop('SIGKILL');
    expect(bound('first').size, 'clients bound when pxedeck was killed').toBeGreaterThanOrEqual(CLIENTS / 4);
    await Promise.all(clients.map((client) => client.exited));

    // Every client that was told "ACK" holds an address pxedeck wrote down before telling it.
    const acked = bound('first');
    expect(acked.size).toBeLessThan(CLIENTS);
    const onDisk = new Map<string, string>(readLeaseFile(dataDir).map((lease) => [lease.mac, lease.ip]));
    for (const [mac, ip] of acked) expect(onDisk.get(mac), `lease of ${mac} (${ip}) on disk`).toBe(ip);

    // Restart on the same data dir: everybody asks again, the ones left out first.
    pxedeck = startPxedeck();
    await pxedeck.listening();
    const order = [...Array.from({ length: CLIENTS }, (_, n) => n).filter((n) => !acked.has(macOf(n))), ...Array.from({ length: CLIENTS }, (_, n) => n).filter((n) => acked.has(macOf(n)))];
    const second = order.map((n) => udhcpc(n, 'second'));
    await Promise.all(second.map((client) => client.exited));
    const after = bound('second');
    expect(after.size, 'clients bound after the restart').toBe(CLIENTS);
    // No address twice, and every client that had one before the kill has the same one back.
    expect(new Set(after.values()).size).toBe(CLIENTS);
    for (const [mac, ip] of acked) expect(after.get(mac), `${mac} after the restart`).toBe(ip);
    expect((await pxedeck.stop()).code).toBe(0);
    expect(existsSync(join(dataDir, 'leases.json'))).toBe(true);
  });
});
