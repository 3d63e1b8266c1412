/**
 * `npm run bench:abuse`: what a legitimate machine experiences while an attacker on the boot network floods
 * pxedeck, one flood at a time, and what each flood costs pxedeck in memory. Three namespaces on a bridge this
 * script creates and deletes: the laptop (the real CLI, `--headless --mode dhcp`, a 100-address pool), the
 * attacker, and the legitimate client. For each flood: a fresh pxedeck, one probe before, probes while the
 * flood runs and just after, RSS before / peak / after, and how much the event log grew.
 *
 *   DISCOVER flood   new random MACs (default 100,000 at 1,000/s, about what pxedeck reads here): the registry's bound
 *   REQUEST flood    REQUESTs without a DISCOVER for every pool address, random MACs
 *   DECLINE flood    DECLINEs of pool and off-subnet addresses, random MACs
 *   TFTP RRQ flood   300 read requests from one host, never acknowledged
 *   syslog flood     lines from 512 addresses no machine has, 5,000 a second
 *   HTTP flood       slow headers from 40 addresses, 80 connections each, reconnecting
 *
 *   --discovers N  --discover-rate N   the DISCOVER flood's size and rate
 *   --only a,b     run only these floods (discover, request, decline, tftp, syslog, http)
 *
 * Bounded: every flood has a count and a deadline, every probe a timeout; each pxedeck is stopped after its
 * flood. Run it as `flock -x /work/.locks/heavy npm run bench:abuse` so nothing else competes for the CPU.
 */
import { closeSync, createReadStream, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { NetnsLab, netnsUnavailableReason, repoRoot, sleep, type NsProcess } from '../test/support/netns.js';
import { rssKiB } from './http-load.js';

const { values } = parseArgs({
  options: {
    discovers: { type: 'string', default: '100000' },
    'discover-rate': { type: 'string', default: '1000' },
    only: { type: 'string', default: 'discover,request,decline,tftp,syslog,http' },
  },
});

const SERVER = '10.77.0.1';
const CLIENT = '10.77.0.50';
const ATTACKER = '10.77.0.66';
const POOL = { first: '10.77.0.100', last: '10.77.0.199', size: 100 } as const;
const PROBE_FILE = 'probe.bin';
const PROBE_BYTES = 1024 * 1024;
/** Addresses the attacker sends from, on its one interface: no machine pxedeck knows has them. */
const attackerSources = (count: number) => Array.from({ length: count }, (_, index) => `10.77.${20 + (index >>> 8)}.${index & 255}`);

interface Probe {
  readonly ok: boolean;
  /** What the client waited for the answer, ms. */
  readonly ms?: number;
  readonly why?: string;
}

interface Flood {
  readonly id: string;
  readonly title: string;
  /** What the legitimate client does, e.g. "a new machine's DORA". */
  readonly probeTitle: string;
  /** The attacker's role and options for bench/abuse-actors.ts, and how long the flood lasts. */
  readonly actor: readonly [string, Record<string, unknown>];
  readonly seconds: number;
  readonly probe: (context: RunContext, attempts: number, intervalMs: number) => Promise<Probe[]>;
}

interface RunContext {
  readonly lab: NetnsLab;
  readonly ns: { readonly laptop: string; readonly attacker: string; readonly client: string };
  readonly eventsFile: string;
}

function directoryBytes(dir: string): number {
  try {
    return readdirSync(dir).reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);
  } catch {
    return 0;
  }
}

/** The most frequent event kinds pxedeck printed, e.g. "dhcp.received 98,213, dhcp.ignored 97,101". */
async function eventCounts(file: string, top = 4): Promise<string> {
  const counts = new Map<string, number>();
  for await (const line of createInterface({ input: createReadStream(file) })) {
    const kind = /"kind":"([^"]+)"/.exec(line)?.[1];
    if (kind) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1]).slice(0, top).map(([kind, count]) => `${kind} ${count.toLocaleString('en')}`).join(', ');
}

/** Runs one of bench/abuse-actors.ts's roles in `ns`; resolves with its JSON result (or its error text). */
async function actor(lab: NetnsLab, ns: string, role: string, options: Record<string, unknown>, timeoutMs: number): Promise<Record<string, unknown>> {
  const proc: NsProcess = lab.spawn(ns, process.execPath, ['--import', 'tsx', join(repoRoot, 'bench', 'abuse-actors.ts'), role, JSON.stringify(options)], role);
  const exit = await Promise.race([proc.exited, sleep(timeoutMs).then(() => undefined)]);
  if (!exit) await proc.stop('SIGKILL', 0);
  const line = proc.stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return { error: `${role}: ${exit ? `exit ${exit.code ?? exit.signal}` : 'timed out'}: ${proc.tail(400)}` };
  }
}

async function curlProbes(context: RunContext, url: string, attempts: number, intervalMs: number): Promise<Probe[]> {
  const results: Probe[] = [];
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    const run = await context.lab.exec(context.ns.client, 'curl', ['-sS', '-o', '/dev/null', '-w', '%{time_total} %{size_download}', '--max-time', '10', url], { timeoutMs: 15_000 });
    const [seconds, size] = run.stdout.trim().split(' ').map(Number);
    results.push(run.code === 0 && size === PROBE_BYTES ? { ok: true, ms: seconds! * 1000 } : { ok: false, why: (run.stderr.trim() || `got ${size} bytes`).replace(/^curl: /, '') });
    await sleep(intervalMs);
  }
  return results;
}

const dhcpProbe = async (context: RunContext, attempts: number, intervalMs: number): Promise<Probe[]> => {
  const result = await actor(context.lab, context.ns.client, 'probe-dhcp', { device: 'eth0', attempts, intervalMs, timeoutMs: 3000 }, attempts * (intervalMs + 7000) + 10_000);
  const list = (result['results'] as Array<{ ok: boolean; offerMs?: number; ackMs?: number; why?: string }> | undefined) ?? [{ ok: false, why: String(result['error']) }];
  return list.map((entry) => (entry.ok ? { ok: true, ms: entry.offerMs! + entry.ackMs! } : { ok: false, why: entry.why ?? 'failed' }));
};

const discovers = Number(values.discovers);
const discoverRate = Number(values['discover-rate']);
const floods: readonly Flood[] = [
  {
    id: 'discover',
    title: `DISCOVER flood: ${discovers.toLocaleString('en')} new MACs at ${discoverRate}/s`,
    probeTitle: "a new machine's DORA",
    actor: ['flood-dhcp', { kind: 'discover', count: discovers, rate: discoverRate, device: 'eth0', server: SERVER, pool: [POOL.first, POOL.size] }],
    seconds: discovers / discoverRate,
    probe: dhcpProbe,
  },
  {
    id: 'request',
    title: 'REQUEST without DISCOVER: 1,000 (every pool address 10×) at 200/s',
    probeTitle: "a new machine's DORA",
    actor: ['flood-dhcp', { kind: 'request', count: 1000, rate: 200, device: 'eth0', server: SERVER, pool: [POOL.first, POOL.size] }],
    seconds: 5,
    probe: dhcpProbe,
  },
  {
    id: 'decline',
    title: 'DECLINE flood: 2,000 (pool and off-subnet addresses) at 400/s',
    probeTitle: "a new machine's DORA",
    actor: ['flood-dhcp', { kind: 'decline', count: 2000, rate: 400, device: 'eth0', server: SERVER, pool: [POOL.first, POOL.size] }],
    seconds: 5,
    probe: dhcpProbe,
  },
  {
    id: 'tftp',
    title: 'TFTP RRQ flood: 300 unacknowledged requests from one host',
    probeTitle: 'TFTP download of 1 MiB',
    actor: ['flood-tftp', { server: SERVER, count: 300, file: PROBE_FILE, holdMs: 20_000 }],
    seconds: 20,
    probe: (context, attempts, intervalMs) => curlProbes(context, `tftp://${SERVER}/${PROBE_FILE}`, attempts, intervalMs),
  },
  {
    id: 'syslog',
    title: 'syslog flood: 5,000 lines/s from 512 addresses of no known machine, 10 s',
    probeTitle: "a known machine's log line in pxedeck's events",
    actor: ['flood-syslog', { server: SERVER, sources: attackerSources(512), rate: 5000, seconds: 10 }],
    seconds: 10,
    probe: async (context, attempts, intervalMs) => {
      const result = await actor(context.lab, context.ns.client, 'probe-syslog', { server: SERVER, attempts, intervalMs, timeoutMs: 3000, eventsFile: context.eventsFile }, attempts * (intervalMs + 4000) + 10_000);
      const list = (result['results'] as Array<{ ok: boolean; ms?: number; why?: string }> | undefined) ?? [{ ok: false, why: String(result['error']) }];
      return list.map((entry) => (entry.ok ? { ok: true, ms: entry.ms! } : { ok: false, why: entry.why ?? 'failed' }));
    },
  },
  {
    id: 'http',
    title: 'HTTP connection flood: slow headers, 40 addresses × 80 connections, 15 s',
    probeTitle: 'HTTP download of 1 MiB',
    actor: ['flood-http', { server: SERVER, port: 80, sources: attackerSources(40), perSource: 80, seconds: 15 }],
    seconds: 15,
    probe: (context, attempts, intervalMs) => curlProbes(context, `http://${SERVER}/files/${PROBE_FILE}`, attempts, intervalMs),
  },
];

function summary(probes: readonly Probe[]): string {
  const answered = probes.filter((probe) => probe.ok);
  const times = answered.map((probe) => probe.ms!).sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  const failures = [...new Set(probes.filter((probe) => !probe.ok).map((probe) => probe.why))];
  return `${answered.length}/${probes.length} answered${times.length ? `, median ${median!.toFixed(0)} ms, max ${times.at(-1)!.toFixed(0)} ms` : ''}${failures.length ? ` (${failures.join('; ')})` : ''}`;
}

async function runFlood(flood: Flood, lab: NetnsLab, ns: RunContext['ns'], bootDir: string): Promise<string[]> {
  const dataDir = join(lab.dir, `data-${flood.id}`);
  const eventsFile = join(lab.dir, `events-${flood.id}.jsonl`);
  const out = openSync(eventsFile, 'w');
  const pxedeck = lab.pxedeckToFile(ns.laptop, ['--interface', 'bench0', '--mode', 'dhcp', '--pool', `${POOL.first}-${POOL.last}`, '--boot-dir', bootDir, '--data-dir', dataDir, '--probe-ms', '300'], out, { label: `pxedeck-${flood.id}` });
  closeSync(out);
  const context: RunContext = { lab, ns, eventsFile };
  try {
    const deadline = Date.now() + 30_000;
    const ready = () => ['"server":"tftp"', '"server":"http"', '"server":"syslog"', '"server":"dhcp4-full"'].every((name) => readFileSync(eventsFile, 'utf8').split('\n').some((line) => line.includes('"server.listening"') && line.includes(name)));
    while (!ready()) {
      if (pxedeck.hasExited || Date.now() > deadline) throw new Error(`pxedeck did not start: ${pxedeck.tail(600)}`);
      await sleep(100);
    }
    // The client talks to pxedeck once first, so pxedeck knows it (its neighbour table has the client's MAC).
    await lab.exec(ns.client, 'curl', ['-s', '-o', '/dev/null', '--max-time', '5', `http://${SERVER}/files/${PROBE_FILE}`]);
    const before = await flood.probe(context, 1, 0);
    const rssBefore = rssKiB(pxedeck.pid) / 1024;
    const logBefore = directoryBytes(join(dataDir, 'events'));
    let rssPeak = rssBefore;
    const sampler = setInterval(() => {
      if (!pxedeck.hasExited) rssPeak = Math.max(rssPeak, rssKiB(pxedeck.pid) / 1024);
    }, 250);
    const attacker = actor(lab, ns.attacker, flood.actor[0], flood.actor[1], flood.seconds * 1000 + 60_000);
    await sleep(1000);
    // Probes spread over the flood and the few seconds after it.
    const attempts = 5;
    const during = await flood.probe(context, attempts, Math.max(500, ((flood.seconds + 3) * 1000) / attempts - 1000));
    const sent = await attacker;
    await sleep(2000);
    clearInterval(sampler);
    const alive = !pxedeck.hasExited;
    const rssAfter = alive ? rssKiB(pxedeck.pid) / 1024 : NaN;
    const after = alive ? await flood.probe(context, 1, 0) : [];
    const logGrowth = (directoryBytes(join(dataDir, 'events')) - logBefore) / 1e6;
    return [
      flood.title,
      `  attacker: ${JSON.stringify(sent)}${alive ? '' : `   pxedeck EXITED: ${pxedeck.tail(300)}`}`,
      `  pxedeck's events: ${await eventCounts(eventsFile)}`,
      `  legitimate client, ${flood.probeTitle}: before ${summary(before)}; during ${summary(during)}; after ${alive ? summary(after) : '-'}`,
      `  pxedeck RSS: before ${rssBefore.toFixed(0)} MiB, peak ${rssPeak.toFixed(0)} MiB, after ${rssAfter.toFixed(0)} MiB; event log +${logGrowth.toFixed(1)} MB`,
    ];
  } finally {
    await pxedeck.stop();
    rmSync(eventsFile, { force: true });
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const unavailable = netnsUnavailableReason(['curl']);
  if (unavailable) throw new Error(`bench:abuse ${unavailable}`);
  const chosen = floods.filter((flood) => values.only!.split(',').includes(flood.id));
  const lab = new NetnsLab('a');
  try {
    const ns = { laptop: lab.namespace('laptop'), attacker: lab.namespace('attacker'), client: lab.namespace('client') };
    const sw = lab.namespace('switch');
    lab.ip(sw, 'link', 'add', 'br0', 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0', 'mcast_snooping', '0');
    lab.ip(sw, 'link', 'set', 'br0', 'up');
    const ends = [
      [ns.laptop, 'bench0', SERVER, '02:77:0a:00:00:01'],
      [ns.attacker, 'eth0', ATTACKER, '02:77:0a:00:00:66'],
      [ns.client, 'eth0', CLIENT, '02:77:0a:00:00:50'],
    ] as const;
    ends.forEach(([host, name, address, mac], index) => {
      lab.veth({ ns: host, name, address: `${address}/16`, mac }, { ns: sw, name: `port${index}` });
      lab.ip(sw, 'link', 'set', `port${index}`, 'master', 'br0');
    });
    const batch = join(lab.dir, 'addresses.batch');
    writeFileSync(batch, attackerSources(512).map((address) => `address add ${address}/16 dev eth0`).join('\n'));
    lab.ip(ns.attacker, '-batch', batch);
    const bootDir = join(lab.dir, 'boot');
    mkdirSync(bootDir);
    writeFileSync(join(bootDir, PROBE_FILE), Buffer.alloc(PROBE_BYTES, 0x5a));

    console.log(`pxedeck under floods (full DHCP, pool ${POOL.first}-${POOL.last}); legitimate client ${CLIENT}, attacker ${ATTACKER} and 512 more addresses`);
    for (const flood of chosen) {
      for (const line of await runFlood(flood, lab, ns, bootDir)) console.log(line);
    }
  } finally {
    await lab.destroy();
  }
}

await main();
