/**
 * `npm run bench:dhcp`: perfdhcp (Debian kea-admin) against pxedeck in full DHCP mode, against kea
 * (kea-dhcp4, memfile leases) and optionally dnsmasq, with the same /16 pool, in the same run, inside
 * network namespaces this script creates and deletes. Each server is pinned to CPU 0; perfdhcp and this script,
 * the client side, to CPU 1 (perfdhcp spins while it paces its packets, so unpinned it competes with the server
 * for its one core).
 * Prints DORA/s achieved, lost exchanges and response-time percentiles (DISCOVER→OFFER, REQUEST→ACK; the
 * DISCOVER→OFFER p99 also without the run's first second, where a freshly started pxedeck still runs
 * unoptimised code and grows its heaps, so the start and the steady state can be told apart), pxedeck's ratios against kea at each rate, the targets (4000/s: no loss and DISCOVER→OFFER p99 under
 * 5 ms; 1000/s: p99 under 2 ms), and the highest rate each sustains with no loss and p99 under 10 ms.
 *
 *   --rate N          the target rate for the headline run (default 1000 DORA/s)
 *   --seconds N       length of the headline run (default 10)
 *   --ladder A,B,...  rates tried after it, in order, until one loses an exchange (default 2000,4000)
 *   --step-seconds N  length of each ladder run (default 10)
 *   --clients N       distinct client MACs perfdhcp cycles through (default 10000)
 *   --fresh-macs      every perfdhcp run (the 2 s warm-up, the headline, each ladder step) with MACs no run
 *                     before it used, so a ladder step meets machines the server has never seen, as the headline
 *                     does (by default each run cycles through the same MACs, known to the server after the first)
 *   --warmup-rate N   the rate of the 2 s warm-up before the headline run, not reported (default 200; a freshly
 *                     started pxedeck at 200/s is still cold when the headline burst begins: docs/performance.md)
 *   --servers LIST    pxedeck,console,kea,dnsmasq (default pxedeck,kea). `console` is pxedeck as the technician
 *                     runs it, its console in a tmux terminal instead of --headless: its frames are drawn on
 *                     the thread that answers; its last screen is printed after its runs
 *   --pin on|off      pin servers to CPU 0, perfdhcp and this script to CPU 1 (default on, with 2 or more cores)
 *   --profile         also run pxedeck under `node --cpu-prof` at the target rate and summarise where the
 *                     time goes
 *   --events file|null  where pxedeck's headless JSON events go (default file, as a real log would)
 *   --console-size CxR  the tmux terminal of the `console` server (default 80x24)
 *   --node-args="A B"  node flags for pxedeck's runs, after the ones its command's `#!` line gives it, e.g.
 *                     "--max-semi-space-size=16" for V8's default young generation instead of the command's
 *                     2 MiB, or "--trace-gc" (its lines go to stdout, i.e. into the events file: see --keep-events)
 *   --pxedeck-args="A B"  more pxedeck flags, e.g. "--dhcp-warm-up 0" to measure a server without its start-up
 *                     warm-up
 *   --keep-events     copy pxedeck's events file out of the lab before it is removed, and say where
 *   --capture         also time each DISCOVER→OFFER on the server's own interface (tcpdump in its namespace),
 *                     beside perfdhcp's figures: which side a tail belongs to (bench/dhcp-capture.ts)
 *   --data-on disk|shm  where both servers keep leases and logs: the temp dir on disk (default; both
 *                     fsync their lease files, so a neighbour's disk traffic shows up as latency), or
 *                     /dev/shm to measure CPU cost alone
 *
 * Everything is bounded: each perfdhcp run is stopped by its own -p and, failing that, killed after
 * its length plus 20 s; the ladder stops at the first rate that loses an exchange.
 */
import { copyFileSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { busyMicros, summariseProfile } from './cpu-profile-summary.js';
import { watchCpuFreezes, type CpuFreezeWatch } from './cpu-freeze-watch.js';
import { pinSelfAndLaunchers } from './pin-launchers.js';
import { readCpuTimes, TICKS_PER_SECOND, watchSteal } from './cpu-steal.js';
import { startCapture } from './dhcp-capture.js';
import { LATE_MS, printRatios, printTable, printTargets, type RunResult } from './dhcp-report.js';
import { pinServer, pxedeckEventsPath, startPxedeck, startServer, waitForWarmUp, serverNames, isPxedeck, type ServerName, type ServerSetup } from './dhcp-servers.js';
import { processStatFields, rssKiB } from './http-load.js';
import { measureLeaseWrites } from './lease-writes.js';
import { exchangeStats } from './perfdhcp-output.js';
import { NetnsLab, netnsUnavailableReason } from '../test/support/netns.js';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '10' },
    ladder: { type: 'string', default: '2000,4000' },
    'step-seconds': { type: 'string', default: '10' },
    'warmup-rate': { type: 'string', default: '200' },
    clients: { type: 'string', default: '10000' },
    servers: { type: 'string', default: 'pxedeck,kea' },
    pin: { type: 'string', default: 'on' },
    profile: { type: 'boolean', default: false },
    events: { type: 'string', default: 'file' },
    'data-on': { type: 'string', default: 'disk' },
    'node-args': { type: 'string', default: '' },
    'pxedeck-args': { type: 'string', default: '' },
    'keep-events': { type: 'boolean', default: false },
    capture: { type: 'boolean', default: false },
    'fresh-macs': { type: 'boolean', default: false },
    'console-size': { type: 'string', default: '80x24' },
  },
});

const TARGET_RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const LADDER = values.ladder!.split(',').filter(Boolean).map(Number);
const STEP_SECONDS = Number(values['step-seconds']);
const WARMUP_RATE = Number(values['warmup-rate']);
if (!(WARMUP_RATE > 0)) throw new Error(`--warmup-rate ${values['warmup-rate']}: a rate of DORA/s above 0, e.g. 200`);
const CLIENTS = Number(values.clients);
/** perfdhcp's runs so far: with --fresh-macs each takes MACs of its own (00:0c:NN:…, NN the run). */
let perfdhcpRuns = 0;
/** The sleepers beside the server's core and perfdhcp's, one each for the whole bench (cpu-freeze-watch.ts). */
let freezeWatches: readonly CpuFreezeWatch[] = [];
const SERVERS = values.servers!.split(',').filter(Boolean) as ServerName[];
for (const server of SERVERS) if (!serverNames.includes(server)) throw new Error(`--servers: unknown server ${server}`);
const NODE_ARGS = values['node-args']!.split(' ').filter(Boolean);
const PXEDECK_ARGS = values['pxedeck-args']!.split(' ').filter(Boolean);
const PIN = values.pin === 'on' && cpus().length >= 2;
const CONSOLE_SIZE = ((text: string) => {
  const size = /^(\d+)x(\d+)$/.exec(text);
  if (!size) throw new Error(`--console-size ${text}: a terminal size as COLUMNSxROWS, e.g. 80x24`);
  return { columns: Number(size[1]), rows: Number(size[2]) };
})(values['console-size']!);
const P99_LIMIT_MS = 10;

if (values['data-on'] !== 'disk' && values['data-on'] !== 'shm') throw new Error('--data-on disk|shm');
const SERVER_IP = '10.77.0.1';
const LOAD_IP = '10.77.0.2';
/** 51,200 addresses: room for every simulated client without exhausting the pool. */
const POOL = { first: '10.77.1.0', last: '10.77.200.255', mask: '255.255.0.0' } as const;
const POOL_SIZE = 200 * 256;
// Each server gets the warm-up run, the headline and every ladder step: with --fresh-macs each brings new machines.
if (values['fresh-macs'] && (LADDER.length + 2) * CLIENTS > POOL_SIZE) {
  throw new Error(
    `--fresh-macs: ${LADDER.length + 2} runs × ${CLIENTS} new MACs would need more addresses than the pool's ${POOL_SIZE}; ` +
      `fix: fewer ladder steps or a smaller --clients (at most ${Math.floor(POOL_SIZE / (LADDER.length + 2))})`,
  );
}

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid: number): number {
  const fields = processStatFields(pid);
  return fields ? (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND : Number.NaN;
}

/** Busy CPU seconds of the whole machine (all cores), from /proc/stat. */
function machineBusySeconds(): number {
  const all = readCpuTimes().get('all');
  if (!all) return Number.NaN;
  return (all.user + all.nice + all.system + all.irq + all.softirq + all.steal) / TICKS_PER_SECOND;
}

/** UDP RcvbufErrors of a namespace (/proc/net/snmp): datagrams dropped because a socket's receive buffer was full. */
async function receiveBufferErrors(lab: NetnsLab, ns: string): Promise<number> {
  const { stdout } = await lab.exec(ns, 'cat', ['/proc/net/snmp']);
  const [names, values] = stdout.split('\n').filter((line) => line.startsWith('Udp:'));
  const index = names?.split(/\s+/).indexOf('RcvbufErrors') ?? -1;
  return index > 0 ? Number(values?.split(/\s+/)[index]) : Number.NaN;
}

/** One perfdhcp run from `loadNs` against the server `pid` in `serverNs`, with what the server used meanwhile. */
async function perfdhcp(lab: NetnsLab, serverNs: string, loadNs: string, server: string, pid: number, rate: number, seconds: number): Promise<RunResult> {
  // What the sleepers saw before this run is another run's.
  for (const watch of freezeWatches) watch.take();
  const captureFile = values.capture ? join(lab.dir, `capture-${rate}.pcap`) : undefined;
  const capture = captureFile ? await startCapture(lab, serverNs, 'srv0', captureFile, PIN ? 1 : undefined) : undefined;
  const buffersBefore = [await receiveBufferErrors(lab, serverNs), await receiveBufferErrors(lab, loadNs)];
  const cpuBefore = cpuSeconds(pid);
  const machineBefore = machineBusySeconds();
  const started = Date.now();
  const stealWatch = PIN ? watchSteal([0, 1]) : undefined;
  let peakRssMiB = rssKiB(pid) / 1024;
  const rssSampler = setInterval(() => (peakRssMiB = Math.max(peakRssMiB, rssKiB(pid) / 1024)), 100);
  const result = await lab.exec(
    loadNs,
    PIN ? 'taskset' : 'perfdhcp',
    [
      ...(PIN ? ['-c', '1', 'perfdhcp'] : []),
      '-4',
      '-l', LOAD_IP,
      '-r', String(rate),
      '-p', String(seconds),
      '-R', String(CLIENTS),
      ...(values['fresh-macs'] ? ['-b', `mac=00:0c:${(perfdhcpRuns % 256).toString(16).padStart(2, '0')}:00:00:00`] : []),
      // A reply later than 1 s counts as lost (perfdhcp's default, stated for the record).
      '-d', '1',
      // After the last request, wait 1 s for the replies still in flight instead of calling them lost.
      '-W', '1000000',
      '-x', 't',
      SERVER_IP,
    ],
    { timeoutMs: (seconds + 20) * 1000 },
  );
  clearInterval(rssSampler);
  perfdhcpRuns += 1;
  const [serverSteal, clientSteal] = stealWatch?.stop() ?? [];
  const [serverFreezes = [], clientFreezes = []] = freezeWatches.map((watch) => watch.take());
  const wire = await capture?.stop(LATE_MS);
  if (captureFile) rmSync(captureFile, { force: true });
  const cpuFreezes = { server: serverFreezes, client: clientFreezes };
  const wall = (Date.now() - started) / 1000;
  const serverCpu = cpuSeconds(pid) - cpuBefore;
  const cpu = (serverCpu / wall) * 100;
  // Everything else (perfdhcp included): on a shared machine a busy neighbour shows up here.
  const othersPercent = ((machineBusySeconds() - machineBefore - serverCpu) / wall) * 100;
  const bufferDrops = {
    server: (await receiveBufferErrors(lab, serverNs)) - buffersBefore[0]!,
    client: (await receiveBufferErrors(lab, loadNs)) - buffersBefore[1]!,
  };
  const text = result.stdout + result.stderr;
  const discoverOffer = exchangeStats(text, 'DISCOVER-OFFER', LATE_MS);
  const requestAck = exchangeStats(text, 'REQUEST-ACK', LATE_MS);
  // Completed exchanges over the sending period. perfdhcp's own "Rate" divides by the period plus the
  // -W wait at the end (5 s at 1000/s reads 833/s), so it is not used.
  const achieved = requestAck.received / seconds;
  const problems: string[] = [];
  if (Number.isNaN(achieved)) problems.push(`perfdhcp printed no statistics (exit ${result.code}): ${text.slice(-400)}`);
  const lost = discoverOffer.drops + requestAck.drops;
  if (lost > 0) problems.push(`${lost} lost`);
  const p99 = Math.max(discoverOffer.p99, requestAck.p99);
  if (!(p99 < P99_LIMIT_MS)) problems.push(`p99 ${p99.toFixed(1)} ms`);
  if (discoverOffer.sent < rate * seconds * 0.97) problems.push(`perfdhcp sent only ${(discoverOffer.sent / seconds).toFixed(0)}/s`);
  return { server, requested: rate, seconds, achieved, discoverOffer, requestAck, cpuPercent: cpu, othersPercent, peakRssMiB, bufferDrops, cpuFreezes, ...(serverSteal && clientSteal && { steal: { server: serverSteal, client: clientSteal } }), startedAt: started, ...(wire && { wire }), ok: problems.length === 0, why: problems.join(', ') || 'ok' };
}

async function main(): Promise<number> {
  const unavailable = netnsUnavailableReason([
    'perfdhcp',
    ...(PIN ? ['taskset'] : []),
    ...(SERVERS.includes('kea') ? ['kea-dhcp4'] : []),
    ...(SERVERS.includes('dnsmasq') ? ['dnsmasq'] : []),
  ]);
  if (unavailable) {
    console.error(`bench:dhcp ${unavailable} (Debian: kea-admin for perfdhcp, kea-dhcp4-server, dnsmasq-base)`);
    return 1;
  }
  if (PIN) {
    // This script is the client side: it reads perfdhcp's per-packet output (up to a core between runs).
    // The npm and tsx processes that launched it go along, off the server's core (pin-launchers.ts).
    const problems = pinSelfAndLaunchers(1);
    if (problems.length > 0) throw new Error(problems.join('; '));
  }
  const lab = new NetnsLab('D');
  const dataRoot = values['data-on'] === 'shm' ? mkdtempSync(join('/dev/shm', `${lab.prefix}-`)) : lab.dir;
  const stopOnSignal = () => {
    for (const watch of freezeWatches) void watch.stop();
    lab.destroySync();
    if (dataRoot && dataRoot !== lab.dir) rmSync(dataRoot, { recursive: true, force: true });
    process.exit(130);
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  try {
    // CPU 0: where pinServer puts each server; CPU 1: perfdhcp's. Each sleeper wakes ~200 times a second, alike for every server.
    freezeWatches = PIN ? [watchCpuFreezes(0), watchCpuFreezes(1)] : [];
    await Promise.all(freezeWatches.map((watch) => watch.ready));
    const srvNs = lab.namespace('srv');
    const loadNs = lab.namespace('load');
    lab.veth({ ns: srvNs, name: 'srv0', address: `${SERVER_IP}/16` }, { ns: loadNs, name: 'eth0', address: `${LOAD_IP}/16` });
    const setup: ServerSetup = {
      lab,
      ns: srvNs,
      dataRoot,
      serverIp: SERVER_IP,
      pool: POOL,
      pin: PIN,
      pxedeckArgs: PXEDECK_ARGS,
      eventsToFile: values.events !== 'null',
      consoleSize: CONSOLE_SIZE,
    };
    const run = (server: string, pid: number, rate: number, seconds: number) => perfdhcp(lab, srvNs, loadNs, server, pid, rate, seconds);
    console.log(
      `data on ${values['data-on']} (${dataRoot}); perfdhcp → ${SERVERS.join(' and ')}${SERVERS.includes('console') ? ` (console: pxedeck's console at ${setup.consoleSize.columns}×${setup.consoleSize.rows} in tmux)` : ''}: relayed DORA (giaddr ${LOAD_IP}), ${CLIENTS} client MACs, pool ${POOL.first}-${POOL.last}; ` +
        `headline ${TARGET_RATE}/s for ${SECONDS} s, ladder ${LADDER.join(',')} for ${STEP_SECONDS} s each; pass = no loss, p99 < ${P99_LIMIT_MS} ms`,
    );

    const headline: RunResult[] = [];
    const ladders: RunResult[] = [];
    for (const server of SERVERS) {
      const started = await startServer(setup, server, NODE_ARGS);
      try {
        // Read now: the console's event log may have rotated it away by the end.
        const warmUp = isPxedeck(server) ? await waitForWarmUp(setup, pxedeckEventsPath(setup, server), started) : undefined;
        // Warm-up (JIT, first leases), not reported.
        await run(server, started.pid, WARMUP_RATE, 2);
        const headlineRun = await run(server, started.pid, TARGET_RATE, SECONDS);
        headline.push(headlineRun);
        console.log(`  ${server} @ ${TARGET_RATE}/s: ${headlineRun.achieved.toFixed(1)} DORA/s, ${headlineRun.why}`);
        // Every rate for every server (the list is short), so each rate has its ratio against kea.
        for (const rate of LADDER) {
          const step = await run(server, started.pid, rate, STEP_SECONDS);
          ladders.push(step);
          console.log(`  ${server} @ ${rate}/s: ${step.achieved.toFixed(1)} DORA/s, ${step.why}`);
        }
        if (isPxedeck(server)) {
          const events = pxedeckEventsPath(setup, server);
          if (started.screen) {
            console.log(`  ${server}: the event log holds ${(statSync(events).size / 1e6).toFixed(0)} MB; the console's screen after the runs:`);
            console.log(started.screen().trimEnd().replace(/^/gm, '    │ '));
          } else if (setup.eventsToFile) console.log(`  pxedeck printed ${(statSync(events).size / 1e6).toFixed(0)} MB of events`);
          if (events !== '/dev/null') {
            console.log(`  ${server}'s start-up warm-up: ${warmUp ?? 'none (--dhcp-warm-up 0, or it had not ended)'}`);
          }
        }
      } finally {
        await started.stop();
        // Copied once pxedeck has stopped writing it.
        if (isPxedeck(server) && values['keep-events'] && pxedeckEventsPath(setup, server) !== '/dev/null') {
          const kept = join(tmpdir(), `${server}-dhcp-events-${Date.now()}.jsonl`);
          copyFileSync(pxedeckEventsPath(setup, server), kept);
          console.log(`  (${server}'s events kept at ${kept})`);
        }
      }
    }

    printTable(`Headline: ${TARGET_RATE} DORA/s for ${SECONDS} s`, headline);
    printTable(`Ladder (${STEP_SECONDS} s each)`, ladders);
    const runs = [...headline, ...ladders];
    const best = (server: string) => Math.max(0, ...runs.filter((run) => run.server === server && run.ok).map((run) => run.requested));
    const lossless = (server: string) =>
      Math.max(0, ...runs.filter((run) => run.server === server && run.discoverOffer.drops + run.requestAck.drops === 0).map((run) => run.requested));
    console.log(`\nHighest rate with no loss and p99 < ${P99_LIMIT_MS} ms: ${SERVERS.map((server) => `${server} ${best(server) || '—'}/s`).join('; ')}`);
    console.log(`Highest rate with no loss (any latency): ${SERVERS.map((server) => `${server} ${lossless(server) || '—'}/s`).join('; ')}`);
    printRatios(runs);
    printTargets(runs);

    if (SERVERS.some(isPxedeck)) await measureLeaseWrites(dataRoot);

    if (values.profile && SERVERS.includes('pxedeck')) {
      const profileDir = join(lab.dir, 'cpu-profile');
      const started = await pinServer(setup, await startPxedeck(setup, 'pxedeck-profiled', [...NODE_ARGS, '--cpu-prof', `--cpu-prof-dir=${profileDir}`]));
      let profiled: RunResult;
      try {
        await run('pxedeck', started.pid, 200, 2);
        profiled = await run('pxedeck (profiled)', started.pid, TARGET_RATE, Math.min(SECONDS, 10));
      } finally {
        await started.stop();
      }
      printTable('Under the profiler', [profiled]);
      // One profile per thread; tsx's module-loader worker idles through the run, so only the busiest is shown.
      const files = readdirSync(profileDir)
        .filter((name) => name.endsWith('.cpuprofile'))
        .map((name) => join(profileDir, name));
      const busiest = files.sort((a, b) => busyMicros(b) - busyMicros(a))[0];
      if (busiest) {
        // Kept past the lab's removal, for Chrome DevTools or a closer look.
        const kept = join(tmpdir(), `pxedeck-dhcp-${TARGET_RATE}-${Date.now()}.cpuprofile`);
        copyFileSync(busiest, kept);
        summariseProfile(busiest);
        console.log(`(profile kept at ${kept})`);
      }
    }
    return 0;
  } finally {
    await Promise.all(freezeWatches.map((watch) => watch.stop()));
    await lab.destroy();
    if (dataRoot !== lab.dir) rmSync(dataRoot, { recursive: true, force: true });
  }
}

process.exitCode = await main();
