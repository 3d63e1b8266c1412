/**
 * Full DHCP against a real client: busybox udhcpc in its own namespace asks pxedeck (the real CLI,
 * `--headless --mode dhcp`) for an address over a veth. Leases must survive a restart of pxedeck with the
 * same data dir, and a RELEASE must give the address back to the pool.
 */
import { chmodSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DhcpPacketEvent, LeaseEvent, PxedeckEvent } from '../../src/servers/events.js';
import { readLeaseFile } from '../../src/state/lease-file.js';
import { NetnsLab, netnsUnavailableReason, sleep, type PxedeckProcess } from '../support/netns.js';

const skipReason = netnsUnavailableReason(['udhcpc']);

const SERVER = '10.77.0.1';
const POOL = { first: '10.77.0.100', last: '10.77.0.119' } as const;
const MAC = { a: '02:77:00:00:00:0a', b: '02:77:00:00:00:0b', c: '02:77:00:00:00:0c', d: '02:77:00:00:00:0d' } as const;
/** The variables udhcpc hands its script that describe the lease. */
const LEASE_VARIABLES = ['ip', 'subnet', 'mask', 'broadcast', 'router', 'dns', 'serverid', 'lease', 'siaddr', 'boot_file', 'interface'] as const;

type Lease = Partial<Record<(typeof LEASE_VARIABLES)[number], string>>;

function isDhcp(event: PxedeckEvent): event is DhcpPacketEvent {
  return event.kind === 'dhcp.received' || event.kind === 'dhcp.sent';
}

/** The DHCP story of one MAC as compact lines, e.g. "received DISCOVER", "sent OFFER 10.77.0.100". */
function story(events: readonly PxedeckEvent[], mac: string, since = 0): string[] {
  return events.slice(since).flatMap((event) => {
    if (event.mac !== mac) return [];
    if (isDhcp(event)) return [`${event.kind.slice(5)} ${event.messageType}${event.yiaddr ? ` ${event.yiaddr}` : ''}`];
    if (event.kind.startsWith('lease.')) return [`${event.kind} ${(event as LeaseEvent).ip}`];
    return [];
  });
}

describe.skipIf(skipReason !== undefined)('full DHCP with busybox udhcpc in namespaces', () => {
  let lab: NetnsLab;
  let serverNs: string;
  let clientNs: string;
  let dataDir: string;
  let script: string;
  let pxedeck: PxedeckProcess | undefined;

  function startPxedeck(): PxedeckProcess {
    return lab.pxedeck(serverNs, [
      '--interface', 'srv0',
      '--mode', 'dhcp',
      '--pool', `${POOL.first}-${POOL.last}`,
      '--data-dir', dataDir,
      // Nothing else serves this veth; a short probe keeps the test fast (the probe itself is covered by
      // dhcp-foreign-server.test.ts).
      '--probe-ms', '300',
    ]);
  }

  /** One udhcpc run as `mac`; resolves with what the script was told on "bound" (undefined: no lease). */
  async function udhcpc(mac: string, extra: readonly string[] = []): Promise<{ lease: Lease | undefined; output: string; code: number | null }> {
    lab.setMac(clientNs, 'cli0', mac);
    const record = join(lab.dir, 'lease.bound');
    rmSync(record, { force: true });
    // -t 3 -T 1: three DISCOVERs a second apart, then give up (-n) rather than wait 20 s.
    const result = await lab.exec(clientNs, 'udhcpc', ['-f', '-q', '-n', '-i', 'cli0', '-s', script, '-t', '3', '-T', '1', ...extra], {
      timeoutMs: 15_000,
    });
    const output = result.stdout + result.stderr;
    if (!existsSync(record)) return { lease: undefined, output, code: result.code };
    const lease = Object.fromEntries(
      readFileSync(record, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    ) as Lease;
    return { lease, output, code: result.code };
  }

  /** What is on disk now (snapshot and journal), read the way pxedeck reads it at start. */
  function savedLeases(): Array<{ mac: string; ip: string; state: string }> {
    return readLeaseFile(dataDir);
  }

  beforeAll(() => {
    lab = new NetnsLab('U');
    try {
      serverNs = lab.namespace('srv');
      clientNs = lab.namespace('cli');
      // The client end has no address: udhcpc talks through a raw socket until it is bound.
      lab.veth({ ns: serverNs, name: 'srv0', address: `${SERVER}/24` }, { ns: clientNs, name: 'cli0', mac: MAC.a });
      dataDir = join(lab.dir, 'data');
      script = join(lab.dir, 'udhcpc.script');
      // Records the lease and configures it like a real client would (the RELEASE later is sent from the
      // leased address, so it has to be on the interface).
      writeFileSync(
        script,
        [
          '#!/bin/sh',
          `record=${join(lab.dir, 'lease')}`,
          'case "$1" in',
          '  bound|renew)',
          `    for name in ${LEASE_VARIABLES.join(' ')}; do eval "value=\\$$name"; [ -n "$value" ] && echo "$name=$value"; done > "$record.$1.tmp"`,
          '    mv "$record.$1.tmp" "$record.$1"',
          '    ip addr flush dev "$interface"',
          '    ip addr add "$ip/$mask" broadcast "$broadcast" dev "$interface"',
          '    ;;',
          '  deconfig)',
          '    ip addr flush dev "$interface"',
          '    ;;',
          'esac',
          '',
        ].join('\n'),
      );
      chmodSync(script, 0o755);
    } catch (error) {
      lab.destroySync();
      throw error;
    }
  });

  afterAll(async () => {
    await lab?.destroy();
  });

  it('hands udhcpc an address from the pool and reports DISCOVER/OFFER/REQUEST/ACK and the lease', async () => {
    pxedeck = startPxedeck();
    await pxedeck.listening();

    const { lease, output } = await udhcpc(MAC.a);
    expect(lease, output).toBeDefined();
    expect(lease).toMatchObject({
      ip: POOL.first,
      subnet: '255.255.255.0',
      mask: '24',
      broadcast: '10.77.0.255',
      serverid: SERVER,
      lease: '3600',
      interface: 'cli0',
    });
    expect(output).toContain(`lease of ${POOL.first} obtained from ${SERVER}`);
    // The script put the address on the interface: the lease is usable, not just printed.
    expect(lab.ip(clientNs, '-4', '-o', 'addr', 'show', 'dev', 'cli0')).toContain(`inet ${POOL.first}/24`);

    await pxedeck.waitForEvent((event) => event.kind === 'lease.granted' && event.mac === MAC.a, 'lease.granted');
    expect(story(pxedeck.events, MAC.a)).toEqual([
      'received DISCOVER',
      `sent OFFER ${POOL.first}`,
      'received REQUEST',
      `sent ACK ${POOL.first}`,
      `lease.granted ${POOL.first}`,
    ]);
    const request = pxedeck.events.find((event): event is DhcpPacketEvent => isDhcp(event) && event.messageType === 'REQUEST')!;
    expect(request.options).toMatchObject({ '50:requested-ip': POOL.first, '54:server-id': SERVER });
    const ack = pxedeck.events.find((event): event is DhcpPacketEvent => isDhcp(event) && event.messageType === 'ACK')!;
    expect(ack).toMatchObject({ interface: 'srv0', peer: '255.255.255.255:68' });
    expect(ack.options).toMatchObject({ '1:subnet-mask': '255.255.255.0', '51:lease-time': 3600, '54:server-id': SERVER });
  });

  it('keeps leases across a restart: the same client gets its address back, another client a different one', async () => {
    const stopped = await pxedeck!.stop();
    expect(stopped.code).toBe(0);
    expect(savedLeases()).toEqual([expect.objectContaining({ mac: MAC.a, ip: POOL.first, state: 'bound' })]);
    lab.ip(clientNs, 'addr', 'flush', 'dev', 'cli0');

    pxedeck = startPxedeck();
    await pxedeck.listening();
    // The other client asks first: with the lease forgotten, the round-robin would give it POOL.first.
    const other = await udhcpc(MAC.b);
    expect(other.lease, other.output).toBeDefined();
    expect(other.lease!.ip).not.toBe(POOL.first);
    expect(other.lease!.ip).toMatch(/^10\.77\.0\.1[01]\d$/);

    const same = await udhcpc(MAC.a);
    expect(same.lease?.ip, same.output).toBe(POOL.first);
    await pxedeck.waitForEvent((event) => event.kind === 'lease.granted' && event.mac === MAC.a, 'lease.granted for the first client');
    expect(story(pxedeck.events, MAC.a)).toEqual([
      'received DISCOVER',
      `sent OFFER ${POOL.first}`,
      'received REQUEST',
      `sent ACK ${POOL.first}`,
      `lease.granted ${POOL.first}`,
    ]);
  });

  it('a RELEASE (udhcpc -R) frees the address for the next client', async () => {
    const server = pxedeck!;
    // While the first client holds it, a third client asking for that very address gets another one.
    const refused = await udhcpc(MAC.c, ['-r', POOL.first]);
    expect(refused.lease?.ip, refused.output).toBeDefined();
    expect(refused.lease!.ip).not.toBe(POOL.first);

    // -R releases on exit; with -q busybox exits before it counts as bound and sends nothing, so run it
    // as a client that stays, and end it the way a shutdown does.
    lab.setMac(clientNs, 'cli0', MAC.a);
    rmSync(join(lab.dir, 'lease.bound'), { force: true });
    const client = lab.spawn(clientNs, 'udhcpc', ['-f', '-R', '-n', '-i', 'cli0', '-s', script, '-t', '3', '-T', '1'], 'udhcpc -R');
    await client.waitForOutput(/lease of 10\.77\.0\.100 obtained/, 5000);
    await client.waitUntil(() => existsSync(join(lab.dir, 'lease.bound')), 'the bound script run', 2000);
    await client.stop('SIGTERM');
    expect(client.stdout + client.stderr).toMatch(/unicasting a release of 10\.77\.0\.100 to 10\.77\.0\.1/);
    const event = await server.waitForEvent<LeaseEvent>((e) => e.kind === 'lease.released' && e.mac === MAC.a, 'lease.released', 5000);
    expect(event.ip).toBe(POOL.first);
    const releasePacket = server.events.find((e): e is DhcpPacketEvent => isDhcp(e) && e.mac === MAC.a && e.messageType === 'RELEASE');
    expect(releasePacket).toMatchObject({ kind: 'dhcp.received', peer: `${POOL.first}:68`, ip: POOL.first });

    // The lease file follows at its next write (the journal's next batch).
    const deadline = Date.now() + 2000;
    while (savedLeases().some((lease) => lease.mac === MAC.a) && Date.now() < deadline) await sleep(50);
    expect(savedLeases().map((lease) => lease.mac)).not.toContain(MAC.a);

    const next = await udhcpc(MAC.d, ['-r', POOL.first]);
    expect(next.lease?.ip, next.output).toBe(POOL.first);

    expect((await server.stop()).code).toBe(0);
    expect(server.events.filter((e) => e.kind === 'packet.malformed' || e.kind === 'server.error')).toEqual([]);
  });

  // After the server above has stopped: this one serves the same veth.
  it('with the new-machine limit lifted, the start-up warm-up runs and leaves no lease, event or record behind', async () => {
    const warmDataDir = join(lab.dir, 'warm-data');
    const warm = lab.pxedeck(serverNs, ['--interface', 'srv0', '--mode', 'dhcp', '--pool', `${POOL.first}-${POOL.last}`, '--data-dir', warmDataDir, '--probe-ms', '300', '--new-macs-per-second', '0', '--dhcp-warm-up', '1500']);
    try {
      const notice = await warm.waitForEvent((e) => e.kind === 'notice' && e.message.startsWith('DHCP warm-up:'), 'the warm-up notice', 20_000);
      expect(notice).toMatchObject({ level: 'info' });
      expect((notice as { message: string }).message).toMatch(/^DHCP warm-up: 1500 exchanges over loopback in \d+ ms/);
      // Nothing of it reached the console's feed, the event log, the registry or the lease file.
      expect(warm.events.filter((e) => 'mac' in e && String(e.mac).startsWith('02:00:'))).toEqual([]);
      expect(warm.events.filter((e) => isDhcp(e) || e.kind.startsWith('lease.'))).toEqual([]);
      expect(readLeaseFile(warmDataDir)).toEqual([]);
      // The real pool is untouched: a new machine gets its first address.
      const { lease, output } = await udhcpc(MAC.c);
      expect(lease?.ip, output).toBe(POOL.first);
    } finally {
      expect((await warm.stop()).code).toBe(0);
    }
    const logged = readFileSync(join(warmDataDir, 'events', 'events.jsonl'), 'utf8');
    expect(logged).toContain('DHCP warm-up: 1500 exchanges');
    expect(logged).not.toMatch(/"mac":"02:00:/);
  });
});
