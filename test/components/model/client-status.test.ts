import { describe, expect, it } from 'vitest';
import { clientStatus, firmwareNow, progressOf } from '../../../components/model/client-status.js';
import type { PxedeckEvent } from '../../../src/state/events.js';
import { ClientRegistry } from '../../../src/state/registry.js';
import { bootEvents, mac } from '../support/console-fixture.js';

const machine = mac('52:54:00:aa:00:01');
const menu = { kind: 'menu', menu: 'default' } as const;

function recordAfter(events: readonly PxedeckEvent[]) {
  const registry = new ClientRegistry();
  for (const event of events) registry.apply(event);
  return registry.get(machine)!;
}

describe('client status', () => {
  it('walks waiting → booting → done along a normal boot', () => {
    const t0 = 1_000_000;
    expect(clientStatus(recordAfter(bootEvents(machine, t0, 'dhcp')), menu, t0 + 1000).badge).toBe('waiting');
    const halfway = recordAfter(bootEvents(machine, t0, 'nbp-half'));
    expect(clientStatus(halfway, menu, halfway.lastSeen + 1000).badge).toBe('booting');
    expect(firmwareNow(halfway)).toBe('BIOS');
    const ipxe = recordAfter(bootEvents(machine, t0, 'ipxe'));
    expect(firmwareNow(ipxe)).toBe('iPXE');
    const booted = recordAfter(bootEvents(machine, t0, 'booted'));
    expect(clientStatus(booted, menu, booted.lastSeen + 1000).badge).toBe('done');
  });

  it('shows the download as a fraction with rate and ETA', () => {
    const record = recordAfter(bootEvents(machine, 1_000_000, 'kernel-half'));
    expect(progressOf(record)).toMatchObject({ file: 'vmlinuz', fraction: 0.5, rate: 4_000_000, etaSeconds: 1, done: false });
  });

  it('calls a download with no progress for a while stalled, with the fix', () => {
    const record = recordAfter(bootEvents(machine, 1_000_000, 'nbp-half'));
    const status = clientStatus(record, menu, record.lastSeen + 20_000);
    expect(status.badge).toBe('stalled');
    expect(status.diagnosis).toMatch(/undionly\.kpxe stopped at 50%.*blksizeCap/);
  });

  it('reports a failed download until the machine moves on', () => {
    const events = bootEvents(machine, 1_000_000, 'script');
    const failed: PxedeckEvent = { kind: 'transfer.error', time: events.at(-1)!.time + 100, source: 'http', mac: machine, ip: '10.77.0.50', file: 'vmlinuz', bytes: 1000, size: 8_000_000, error: 'client went away' };
    const record = recordAfter([...events, failed]);
    expect(clientStatus(record, menu, failed.time + 10).badge).toBe('failed');
    expect(clientStatus(record, menu, failed.time + 10).diagnosis).toMatch(/HTTP vmlinuz failed after 1000B of 7\.6M: client went away/);
    const retry: PxedeckEvent = { kind: 'transfer.start', time: failed.time + 500, source: 'http', mac: machine, ip: '10.77.0.50', file: 'vmlinuz', bytes: 0, size: 8_000_000 };
    expect(clientStatus(recordAfter([...events, failed, retry]), menu, retry.time + 10).badge).toBe('booting');
  });

  it('treats a missing PXELINUX config name as routine and a missing boot program as a failure', () => {
    const events = bootEvents(machine, 1_000_000, 'dhcp');
    const miss = (file: string): PxedeckEvent => ({ kind: 'transfer.not-found', time: events.at(-1)!.time + 10, source: 'tftp', mac: machine, ip: '10.77.0.50', file, bytes: 0 });
    expect(clientStatus(recordAfter([...events, miss('pxelinux.cfg/01-52-54-00-aa-00-01')]), menu, 1_000_100).badge).not.toBe('failed');
    const status = clientStatus(recordAfter([...events, miss('undionly.kpxe')]), menu, 1_000_100);
    expect(status.badge).toBe('failed');
    expect(status.diagnosis).toMatch(/apt install ipxe/);
  });

  it('calls three boot-program downloads without a "booted" report a LOOP', () => {
    const events: PxedeckEvent[] = [];
    for (let cycle = 0; cycle < 3; cycle += 1) events.push(...bootEvents(machine, 1_000_000 + cycle * 90_000, 'ipxe'));
    const record = recordAfter(events);
    const status = clientStatus(record, menu, record.lastSeen + 1000);
    expect(status.badge).toBe('LOOP');
    expect(status.diagnosis).toMatch(/undionly\.kpxe downloaded 3 times/);
  });

  it('lets the operator\'s hold and ignore show', () => {
    const record = recordAfter(bootEvents(machine, 1_000_000, 'script'));
    expect(clientStatus(record, { kind: 'hold' }, record.lastSeen + 100).badge).toBe('held');
    expect(clientStatus(record, { kind: 'ignore' }, record.lastSeen + 100).badge).toBe('ignored');
  });
});
