// `pxedeck report` over data dirs built from real events: pxedeck --headless in the VM lab while real
// firmware booted (test/fixtures/events, see capture.ts there), written through the event log with
// rotation, plus syslog lines that util-linux logger sent to the real syslog receiver.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { runReport, type MachineReport } from '../../src/cli/report.js';
import { UsageError } from '../../src/cli/args.js';
import { parseMac } from '../../src/protocol/mac.js';
import type { PxedeckEvent } from '../../src/servers/events.js';
import { createSyslogServer } from '../../src/servers/syslog/server.js';
import { eventLogFiles, openEventLog } from '../../src/state/event-log.js';

const fixture = (name: string): PxedeckEvent[] =>
  readFileSync(join(import.meta.dirname, '..', 'fixtures', 'events', `${name}.jsonl`), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as PxedeckEvent);

const CHAIN = parseMac('52:54:77:5b:f6:3d')!;
const LOOP = parseMac('52:54:77:d4:55:3e')!;
const UEFI = parseMac('52:54:77:32:e8:3f')!;

let dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs = [];
});

/** A data dir whose event log holds these events, in files of at most 16 KiB (so reading crosses files). */
async function dataDirWith(events: readonly PxedeckEvent[], maxFileBytes = 16 * 1024): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'pxd-report-'));
  dirs.push(dir);
  const log = openEventLog(dir, { maxFileBytes, keepFiles: 8 });
  for (const [index, event] of events.entries()) {
    log.append(event);
    if (index % 10 === 9) await log.flush();
  }
  await log.close();
  return dir;
}

async function json(dir: string, mac: string): Promise<MachineReport> {
  const result = await runReport([mac, '--data-dir', dir, '--json'], '/nonexistent');
  expect(result.exitCode).toBe(0);
  return JSON.parse(result.output) as MachineReport;
}

describe('pxedeck report', () => {
  it('BIOS iPXE ROM → undionly.kpxe → script → kernel → booted: stages with their times, last boot file, script and download', async () => {
    const dir = await dataDirWith([...fixture('bios-undionly-chain'), ...fixture('loop-foreign-undionly')]);
    expect((await eventLogFiles(dir)).length).toBeGreaterThanOrEqual(2);
    const report = await json(dir, CHAIN);
    expect(report).toMatchObject({ mac: CHAIN, ip: '10.77.0.100', firmware: 'iPXE x86 BIOS', stage: 'booted' });
    expect(report.cycles).toHaveLength(1);
    expect(report.cycles[0]!.stages.map((step) => [step.stage, step.tookMs])).toEqual([
      ['dhcp', 0],
      ['ipxe', 2675],
      ['script', 21],
      ['kernel', 7797],
      ['initrd', 546],
      ['booted', undefined],
    ]);
    expect(report.lastBootFile).toEqual({ file: 'http://10.77.0.1/boot.ipxe', at: 1795616589902, messageType: 'ACK' });
    expect(report.lastScript).toEqual({ method: 'GET', path: '/ipxe', status: 200, at: 1795616590086 });
    expect(report.lastDownload).toMatchObject({ file: '/local-7eec4ad8-initrd.gz', source: 'http', bytes: 1028377, outcome: 'done' });
    // Every event of this machine, none of the other one's, none of the servers' own.
    expect(report.events).toHaveLength(fixture('bios-undionly-chain').filter((event) => event.mac === CHAIN).length);
    expect(report.diagnoses).toEqual([]);

    const text = await runReport([CHAIN.toUpperCase().replace(/:/g, '-'), '--data-dir', dir], '/nonexistent');
    expect(text.exitCode).toBe(0);
    const lines = text.output.split('\n');
    expect(lines[0]).toBe('Machine     52:54:77:5b:f6:3d  10.77.0.100  iPXE x86 BIOS');
    expect(lines[1]).toBe('Seen        2026-11-25 14:23:07.411 → 14:23:18.454 UTC (11.0 s), 1 boot cycle, last stage: booted');
    expect(text.output).toContain('Boot file   http://10.77.0.1/boot.ipxe (DHCP ACK, 14:23:09.902)');
    expect(text.output).toContain('Script      GET /ipxe → 200 (14:23:10.086)');
    expect(text.output).toContain('  14:23:10.107  kernel    7.8 s');
    expect(text.output).toContain("  14:23:18.450  booted    last stage, 4 ms to the cycle's last event");
    expect(text.output).toContain('Timeline (UTC; 27 progress events left out, --json has them)');
    expect(text.output).toContain('  14:23:07.479  tftp    undionly.kpxe done 74213 bytes in 19 ms (3905947 B/s)');
    expect(text.output).not.toContain('transfer.progress');
    expect(lines.at(-1)).toMatch(/^81 events read from .*\/events \(\d+ files\)$/);
  });

  it('two boots of one UEFI PXE machine are two cycles, each with its own stage times', async () => {
    const dir = await dataDirWith(fixture('uefi-pxe-twice'));
    const report = await json(dir, UEFI);
    expect(report.cycles.map((cycle) => cycle.number)).toEqual([1, 2]);
    expect(report.cycles.map((cycle) => cycle.stages.map((step) => step.stage))).toEqual([
      ['dhcp', 'nbp', 'ipxe', 'script', 'kernel', 'initrd', 'booted'],
      ['dhcp', 'nbp', 'ipxe', 'script', 'kernel', 'initrd', 'booted'],
    ]);
    expect(report.cycles.map((cycle) => cycle.stages.map((step) => step.tookMs ?? null))).toEqual([
      [5647, 6668, 56, 5, 368, 34, null],
      [4808, 6321, 310, 4, 466, 37, null],
    ]);
    // Each cycle ends with its own last event: the first with the GET /booted before the reboot.
    expect(report.cycles[0]!.lastEventAt).toBe(1795616750668);
    expect(report.cycles[1]!.startedAt).toBe(1795616756201);
    const text = (await runReport([UEFI, '--data-dir', dir], '/x')).output;
    expect(text).toContain('2 boot cycles');
    expect(text.indexOf('Boot cycle 1')).toBeLessThan(text.indexOf('Boot cycle 2'));
  });

  it('a chainboot loop: the logged diagnosis with its cause and fix', async () => {
    const dir = await dataDirWith([...fixture('bios-undionly-chain'), ...fixture('loop-foreign-undionly')]);
    const report = await json(dir, LOOP);
    expect(report.diagnoses).toHaveLength(1);
    expect(report.diagnoses[0]).toMatchObject({ verdict: 'loop', severity: 'error', cause: expect.stringContaining('10.77.0.2') });
    expect(report.lastBootFile).toBeUndefined();
    const text = (await runReport([LOOP, '--data-dir', dir], '/x')).output;
    expect(text).toMatch(/\nDiagnosis\n {2}14:23:33\.695 {2}ERROR loop: chainboot loop/);
    expect(text).toMatch(/\n {16}fix: {3}make 10\.77\.0\.2 give iPXE/);
    expect(text).toContain('another DHCP server is on this segment: 10.77.0.2');
  });

  it('events known only by IP are attributed through the registry', async () => {
    // Proxy mode without a neighbour entry: HTTP requests arrive with the client's address and no MAC.
    const events = fixture('bios-undionly-chain').map((event) => {
      if (event.kind !== 'http.request' && event.kind !== 'transfer.start' && event.kind !== 'transfer.done' && event.kind !== 'transfer.progress') return event;
      if (event.source !== 'http') return event;
      const { mac: _mac, ...rest } = event;
      return rest as PxedeckEvent;
    });
    expect(events.filter((event) => event.source === 'http' && event.mac === undefined).length).toBeGreaterThan(30);
    const report = await json(await dataDirWith(events), CHAIN);
    expect(report.events).toHaveLength(fixture('bios-undionly-chain').filter((event) => event.mac === CHAIN).length);
    expect(report.cycles[0]!.stages.map((step) => step.stage)).toEqual(['dhcp', 'ipxe', 'script', 'kernel', 'initrd', 'booted']);
  });

  it("keeps a machine's whole history even when more machines than the console keeps were seen in between", async () => {
    const chain = fixture('bios-undionly-chain').map((event) => {
      if (event.source !== 'http') return event;
      const { mac: _mac, ...rest } = event;
      return rest as PxedeckEvent;
    });
    const split = chain.findIndex((event) => event.source === 'http' && event.kind === 'http.request');
    const at = chain[split - 1]!.time;
    const flood: PxedeckEvent[] = Array.from({ length: 1200 }, (_, n) => ({
      kind: 'dhcp.received', time: at, source: 'dhcp4', mac: parseMac(`02:00:00:00:${(n >>> 8).toString(16).padStart(2, '0')}:${(n & 0xff).toString(16).padStart(2, '0')}`)!,
      xid: n, messageType: 'DISCOVER', peer: '0.0.0.0:68', summary: '', options: {}, client: 'BIOS PXE',
    }));
    const report = await json(await dataDirWith([...chain.slice(0, split), ...flood, ...chain.slice(split)], 256 * 1024), CHAIN);
    expect(report.events).toHaveLength(fixture('bios-undionly-chain').filter((event) => event.mac === CHAIN).length);
    expect(report.cycles.map((cycle) => cycle.stages.map((step) => step.stage))).toEqual([['dhcp', 'ipxe', 'script', 'kernel', 'initrd', 'booted']]);
  });

  it.skipIf(!existsSync('/usr/bin/logger'))('syslog lines sent to the receiver land in the machine’s timeline', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pxd-report-'));
    dirs.push(dir);
    const log = openEventLog(dir);
    for (const event of fixture('uefi-pxe-twice')) log.append(event);
    const server = await createSyslogServer({ bind: { address: '127.0.0.1', port: 0 }, emit: (event) => log.append(event), macForIp: () => UEFI });
    const port = String(server.addresses[0]!.port);
    await promisify(execFile)('logger', ['--server', '127.0.0.1', '--port', port, '--udp', '--rfc3164', '-t', 'd-i', '-p', 'user.err', 'partman: no disk found']);
    const deadline = Date.now() + 3000;
    while (server.stats.lines < 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    await server.close();
    await log.close();
    const report = await json(dir, UEFI);
    expect(report.events.at(-1)).toMatchObject({ kind: 'syslog.line', app: 'd-i', severity: 'err', message: 'partman: no disk found' });
    const text = (await runReport([UEFI, '--data-dir', dir], '/x')).output;
    expect(text).toMatch(/ syslog {2}d-i@\S+ \[err\]: partman: no disk found\n/);
  });

  it('says what is missing: no log, an unknown MAC, a bad command line', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'pxd-report-'));
    dirs.push(empty);
    expect(await runReport(['52:54:00:00:00:01'], empty)).toEqual({
      exitCode: 1,
      output: `no event log in ${join(empty, 'events')}: pxedeck writes one there while it runs (is this the --data-dir it ran with?)`,
    });
    const dir = await dataDirWith([...fixture('bios-undionly-chain'), ...fixture('loop-foreign-undionly')]);
    const missing = await runReport(['52:54:00:00:00:01', '--data-dir', dir], '/x');
    expect(missing.exitCode).toBe(1);
    expect(missing.output).toMatch(/^no events for 52:54:00:00:00:01 in .*\/events \(81 events in \d+ files\); machines in the log: 52:54:77:5b:f6:3d, 52:54:77:d4:55:3e$/);
    await expect(runReport(['nonsense'], dir)).rejects.toThrow(/"nonsense" is not a MAC address/);
    await expect(runReport([], dir)).rejects.toThrow(UsageError);
    await expect(runReport([CHAIN, '--verbose'], dir)).rejects.toThrow(/Unknown option '--verbose'/);
    expect(await runReport(['--help'], dir)).toMatchObject({ exitCode: 0, output: expect.stringMatching(/^Usage: pxedeck report MAC/) });
  });
});
