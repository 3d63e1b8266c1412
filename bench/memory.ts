/**
 * `npm run bench:memory`: pxedeck's resident memory as it runs — the compiled CLI (`node bin/pxedeck.js
 * --headless` with its `#!` line's node flags, stdout to /dev/null), proxy mode on a veth inside network
 * namespaces this script creates and deletes — at idle, then under the loads of issue 17: 10 curl TFTP
 * clients fetching 30 MB each at once (blksize 1468), and 32 curl HTTP clients fetching 200 MB each at once.
 * RSS is sampled every 50 ms; each load prints its peak and what stays after it. With --references,
 * tftpd-hpa and nginx serve the same files under the same loads beside it, for scale.
 *
 *   npm run bench:memory -- [--idle-seconds 30] [--tftp-mb 30] [--tftp-clients 10] [--http-mb 200]
 *                           [--http-clients 32] [--http-rounds 1] [--references] [--node-args="--max-semi-space-size=16"]
 *                           [--pxedeck-args="--dhcp-warm-up 0"]  (with "=": a value that starts with a dash)
 *
 * --http-rounds N repeats the HTTP load (a growth that continues round after round is not a high-water
 * mark). After each of pxedeck's HTTP rounds it prints the mappings whose resident size changed most
 * (/proc/PID/smaps): `[heap]` is the main thread's malloc heap, 64 MiB-aligned anonymous ones are other
 * threads' malloc arenas, 256 KiB ones are V8's heap pages.
 *
 * Bounded: every client runs under curl's own --max-time, and the script stops what it started by PID.
 */
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { NetnsLab, netnsUnavailableReason, sleep, type NsProcess } from '../test/support/netns.js';
import { memoryOf, processTree, type Memory } from './http-load.js';

const { values } = parseArgs({
  options: {
    'idle-seconds': { type: 'string', default: '30' },
    'tftp-mb': { type: 'string', default: '30' },
    'tftp-clients': { type: 'string', default: '10' },
    'http-mb': { type: 'string', default: '200' },
    'http-clients': { type: 'string', default: '32' },
    'http-rounds': { type: 'string', default: '1' },
    references: { type: 'boolean', default: false },
    'node-args': { type: 'string', default: '' },
    'pxedeck-args': { type: 'string', default: '' },
  },
});

const SERVER_IP = '10.79.0.1';
const CLIENT_IP = '10.79.0.2';

/**
 * Resident KiB per mapping, keyed by its start address and name (/proc/PID/smaps): a malloc heap that grows
 * keeps its start, so it is compared with itself.
 */
function mappings(pid: number): Map<string, number> {
  const byStart = new Map<string, number>();
  let current = '';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const header = /^([0-9a-f]+)-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (header) current = `${header[1]} ${header[2] || '[anon]'}`;
    else if (line.startsWith('Rss:')) byStart.set(current, Number(/(\d+)/.exec(line)![1]));
  }
  return byStart;
}

/** The mappings that changed most between two readings (one that went away counts as shrunk to nothing). */
function grown(before: Map<string, number>, after: Map<string, number>, count = 12): string {
  const starts = new Set([...before.keys(), ...after.keys()]);
  const rows = [...starts].map((start) => [start, (after.get(start) ?? 0) - (before.get(start) ?? 0)] as const).filter(([, delta]) => delta !== 0);
  rows.sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]));
  return rows.slice(0, count).map(([start, delta]) => `    ${delta > 0 ? '+' : ''}${delta} KiB  ${start}`).join('\n');
}

const mib = (kib: number): string => `${(kib / 1024).toFixed(1)} MiB`;
const split = (memory: Memory): string => `${mib(memory.rssKiB)} (anon ${mib(memory.anonKiB)}, file ${mib(memory.fileKiB)}; ${memory.threads} threads)`;

interface LoadResult {
  readonly seconds: number;
  readonly failures: number;
  readonly peakKiB: number;
}

/** Runs `clients` curls at once in the client namespace while sampling the server's RSS. */
async function load(lab: NetnsLab, ns: string, pids: () => number[], clients: number, args: (i: number) => string[]): Promise<LoadResult> {
  let peakKiB = memoryOf(pids()).rssKiB;
  const sampler = setInterval(() => (peakKiB = Math.max(peakKiB, memoryOf(pids()).rssKiB)), 50);
  const started = performance.now();
  const results = await Promise.all(Array.from({ length: clients }, (_, i) => lab.exec(ns, 'curl', ['-sS', '--max-time', '300', '-o', '/dev/null', ...args(i)], { timeoutMs: 320_000 })));
  clearInterval(sampler);
  return { seconds: (performance.now() - started) / 1000, failures: results.filter((result) => result.code !== 0).length, peakKiB: Math.max(peakKiB, memoryOf(pids()).rssKiB) };
}

async function main(): Promise<void> {
  const missing = netnsUnavailableReason(['curl'].concat(values.references ? ['in.tftpd', 'nginx'] : []));
  if (missing) {
    console.error(`bench:memory: ${missing}`);
    process.exit(2);
  }
  const idleSeconds = Number(values['idle-seconds']);
  const tftpMb = Number(values['tftp-mb']);
  const tftpClients = Number(values['tftp-clients']);
  const httpMb = Number(values['http-mb']);
  const httpClients = Number(values['http-clients']);
  const nodeArgs = values['node-args'] ? values['node-args'].split(' ').filter(Boolean) : [];
  const pxedeckArgs = values['pxedeck-args']!.split(' ').filter(Boolean);

  const lab = new NetnsLab('i');
  const started: NsProcess[] = [];
  try {
    const boot = join(lab.dir, 'boot');
    mkdirSync(boot, { recursive: true });
    chmodSync(lab.dir, 0o755);
    chmodSync(boot, 0o755);
    const block = randomBytes(1_000_000);
    writeFileSync(join(boot, 'medium.bin'), Buffer.concat(Array.from({ length: tftpMb }, () => block)));
    writeFileSync(join(boot, 'initrd.img'), Buffer.concat(Array.from({ length: httpMb }, () => block)));
    for (const name of ['medium.bin', 'initrd.img']) chmodSync(join(boot, name), 0o644);

    const srv = lab.namespace('srv');
    const cli = lab.namespace('cli');
    lab.veth({ ns: srv, name: 'srv0', address: `${SERVER_IP}/24` }, { ns: cli, name: 'eth0', address: `${CLIENT_IP}/24` });

    const out = openSync('/dev/null', 'w');
    const pxedeck = lab.pxedeckToFile(srv, ['--interface', 'srv0', '--mode', 'proxy', '--data-dir', join(lab.dir, 'data'), '--boot-dir', boot, '--http-port', '80', ...pxedeckArgs], out, { nodeArgs });
    closeSync(out);
    started.push(pxedeck);
    const deadline = Date.now() + 20_000;
    while (!(await lab.exec(srv, 'ss', ['-ltn'])).stdout.includes(`${SERVER_IP}:80`)) {
      if (pxedeck.hasExited || Date.now() > deadline) throw new Error(`pxedeck did not start: ${pxedeck.tail()}`);
      await sleep(100);
    }
    const ours = (): number[] => [pxedeck.pid];
    const atStart = memoryOf(ours());
    // At 5 s the start-up's young generation is still resident; V8's memory reducer shrinks it 10-25 s after start.
    const early = Math.min(5, idleSeconds);
    await sleep(early * 1000);
    const atFive = memoryOf(ours());
    await sleep((idleSeconds - early) * 1000);
    const idle = memoryOf(ours());
    console.log(
      `pxedeck (compiled CLI, headless, proxy mode${nodeArgs.length ? `, node ${nodeArgs.join(' ')}` : ''}${pxedeckArgs.length ? `, ${pxedeckArgs.join(' ')}` : ''}): RSS at start ${mib(atStart.rssKiB)}, ` +
        `after ${early} s ${mib(atFive.rssKiB)}, after ${idleSeconds} s idle ${split(idle)}`,
    );

    const references: { name: string; pids: () => number[]; tftp: boolean }[] = [];
    if (values.references) {
      const tftpd = lab.spawn(srv, 'in.tftpd', ['-L', '-a', `${SERVER_IP}:1069`, '-s', boot], 'tftpd-hpa');
      started.push(tftpd);
      const conf = join(lab.dir, 'nginx.conf');
      writeFileSync(
        conf,
        `daemon off; master_process on; worker_processes auto; pid ${join(lab.dir, 'nginx.pid')}; error_log ${join(lab.dir, 'nginx-error.log')} warn;
events { worker_connections 1024; }
http { access_log off; sendfile on; tcp_nopush on; client_body_temp_path ${join(lab.dir, 'nginx-body')};
  server { listen ${SERVER_IP}:8080; root ${boot}; } }
`,
      );
      const nginx = lab.spawn(srv, 'nginx', ['-p', lab.dir, '-c', conf], 'nginx');
      started.push(nginx);
      await sleep(500);
      references.push({ name: 'tftpd-hpa', pids: () => processTree(tftpd.pid), tftp: true }, { name: 'nginx', pids: () => processTree(nginx.pid), tftp: false });
    }

    const report = (name: string, before: Memory, result: LoadResult, after: Memory, gb: number): void => {
      console.log(
        `  ${name.padEnd(10)} ${result.seconds.toFixed(2)} s (${((gb * 1000) / result.seconds).toFixed(0)} MB/s${result.failures ? `, ${result.failures} FAILED` : ''}): ` +
          `RSS before ${mib(before.rssKiB)}, peak ${mib(result.peakKiB)}, 2 s after ${mib(after.rssKiB)}`,
      );
    };
    const tftpGb = (tftpClients * tftpMb) / 1000;
    const httpGb = (httpClients * httpMb) / 1000;
    console.log(`TFTP: ${tftpClients} × curl --tftp-blksize 1468, ${tftpMb} MB each at once`);
    const mapsBeforeTftp = mappings(pxedeck.pid);
    for (const server of [{ name: 'pxedeck', pids: ours, port: 69 }, ...references.filter((r) => r.tftp).map((r) => ({ ...r, port: 1069 }))]) {
      const before = memoryOf(server.pids());
      const result = await load(lab, cli, server.pids, tftpClients, () => ['--tftp-blksize', '1468', `tftp://${SERVER_IP}:${server.port}/medium.bin`]);
      await sleep(2000);
      report(server.name, before, result, memoryOf(server.pids()), tftpGb);
      // While the transfer thread still lives: its isolate's pages, its arena, the other threads' arenas.
      if (server.name === 'pxedeck') console.log(grown(mapsBeforeTftp, mappings(pxedeck.pid)));
    }
    // pxedeck's TFTP transfer threads end after 30 s without a transfer (transfer-pool.ts): wait for that.
    const retireStarted = Date.now();
    while (memoryOf(ours()).threads > idle.threads && Date.now() - retireStarted < 45_000) await sleep(500);
    console.log(`  pxedeck once its transfer threads ended (${((Date.now() - retireStarted) / 1000).toFixed(0)} s later): ${split(memoryOf(ours()))}`);
    // What stays once the threads are gone: the main thread's heaps, or a dead thread's malloc arena kept for reuse.
    console.log(grown(mapsBeforeTftp, mappings(pxedeck.pid)));
    // pxedeck hands a dead thread's malloc arena back within a tick (5 s) of its end (malloc-trim.ts).
    await sleep(6000);
    console.log(`  pxedeck 6 s after that: ${split(memoryOf(ours()))}`);
    console.log(grown(mapsBeforeTftp, mappings(pxedeck.pid)));
    console.log(`HTTP: ${httpClients} × curl, ${httpMb} MB each at once`);
    const rounds = Number(values['http-rounds']);
    const httpServers = [{ name: 'pxedeck', pids: ours, port: 80 }, ...references.filter((r) => !r.tftp).map((r) => ({ ...r, port: 8080 }))];
    for (const server of Array.from({ length: rounds }, () => httpServers).flat()) {
      const before = memoryOf(server.pids());
      const mapsBefore = server.name === 'pxedeck' ? mappings(pxedeck.pid) : undefined;
      const result = await load(lab, cli, server.pids, httpClients, () => [`http://${SERVER_IP}:${server.port}${server.port === 80 ? '/files' : ''}/initrd.img`]);
      await sleep(2000);
      report(server.name, before, result, memoryOf(server.pids()), httpGb);
      if (mapsBefore) console.log(grown(mapsBefore, mappings(pxedeck.pid)));
    }
    const end = memoryOf(ours());
    console.log(`pxedeck at the end: ${split(end)}`);
  } finally {
    for (const proc of started.reverse()) await proc.stop('SIGTERM', 5000);
    await lab.destroy();
  }
}

await main();
