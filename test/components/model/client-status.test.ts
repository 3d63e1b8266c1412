import { describe, expect, it } from 'vitest';
import { clientStatus, firmwareNow, progressOf } from '../../../components/model/client-status.js';
import { stagePathText } from '../../../components/model/report.js';
import { HANDOFF_QUIET_MS, stageCell, stageSentence } from '../../../components/model/stage-view.js';
import type { PxedeckEvent, TransferEvent } from '../../../src/state/events.js';
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

  it('after the "booted" beacon the stage reads "handed off" with the time since, not "booted" forever', () => {
    const record = recordAfter(bootEvents(machine, 1_000_000, 'booted'));
    const now = record.lastSeen + 192_000;
    expect(stageCell(record, now)).toBe('handoff 3m');
    expect(stageSentence(record, now)).toBe('handed off 3m ago');
    expect(stagePathText(record, now)).toMatch(/ → kernel 2\.5s → handed off 3m ago$/);
    const status = clientStatus(record, menu, now);
    expect(status.badge).toBe('done');
    expect(status.diagnosis).toMatch(/handed to its kernel 3m ago; what runs now is not visible from here unless it reports/);
  });

  it('without a beacon (PXELINUX direct), a finished kernel download and silence is a handoff, not a stall at "kernel"', () => {
    const events = bootEvents(machine, 1_000_000, 'booted').filter((event) => event.kind !== 'boot.beacon');
    const record = recordAfter(events);
    expect(record.stage).toBe('kernel');
    expect(stageCell(record, record.lastSeen + 1000)).toBe('kernel');
    expect(stageCell(record, record.lastSeen + HANDOFF_QUIET_MS + 40_000)).toBe('handoff 45s');
    expect(clientStatus(record, menu, record.lastSeen + 600_000).badge).toBe('done');
    // A download that failed is not handed off: it stays a failure.
    const failed = recordAfter([...events.slice(0, -1), { ...(events.at(-1) as TransferEvent), kind: 'transfer.error', error: 'client went away' }]);
    expect(stageCell(failed, failed.lastSeen + 600_000)).toBe('kernel');
    expect(clientStatus(failed, menu, failed.lastSeen + 600_000).badge).toBe('failed');
  });

  it('an installer heard from (syslog) is its own stage: booting while it reports, done when it says so', () => {
    const events = bootEvents(machine, 1_000_000, 'booted');
    const last = events.at(-1)!.time;
    const line: PxedeckEvent = { kind: 'syslog.line', time: last + 60_000, source: 'syslog', mac: machine, ip: '10.77.0.50', peer: '10.77.0.50:514', facility: 'user', severity: 'info', app: 'netcfg', message: 'DEBUG: State is now 1' };
    const record = recordAfter([...events, line]);
    expect(stageCell(record, line.time + 120_000)).toBe('installer');
    expect(clientStatus(record, menu, line.time + 120_000)).toMatchObject({ badge: 'booting', diagnosis: expect.stringMatching(/last heard 2m ago/) });
    const done: PxedeckEvent = { kind: 'boot.beacon', time: line.time + 600_000, source: 'http', mac: machine, ip: '10.77.0.50', beacon: 'done' };
    expect(clientStatus(recordAfter([...events, line, done]), menu, done.time + 10).badge).toBe('done');
  });
});
