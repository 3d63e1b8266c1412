/**
 * `npm run bench:tftp`: pxedeck's TFTP server against tftpd-hpa and dnsmasq's TFTP, same files, same
 * clients (atftp, curl), inside two network namespaces joined by a veth pair (MTU 1500) that this script
 * creates and deletes. Prints MB/s (10^6 bytes/s, median of --reps runs) per case and the ratios.
 *
 *   npm run bench:tftp -- [--size-mb 64] [--parallel-mb 30] [--parallel 10] [--reps 3] [--quick]
 *                         [--servers pxedeck,tftpd-hpa,dnsmasq,pxedeck-nogso,pxedeck-t0,pxedeck-t1]
 *                         [--blksizes 512,1468] [--windowsizes 1] [--clients atftp,curl] [--no-parallel]
 *                         [--mtu 9000] [--pxedeck-cap mtu|N]
 *
 * All servers run at once, each on its own address of the server namespace, and every repetition of a
 * case visits them in turn: a machine whose load changes during the run then skews all servers alike.
 * `pxedeck-nogso` is pxedeck with UDP segmentation off (one system call per packet), for comparison;
 * `pxedeck-t0` runs every transfer on its main thread, `pxedeck-t1` on one worker thread (the default:
 * defaultTransferThreads in src/servers/tftp/server.ts). After the parallel case each pxedeck prints its
 * main thread's event-loop delay during the burst (monitorEventLoopDelay, 1 ms resolution): what a DHCP
 * packet arriving then would wait.
 *
 * Servers get the same limits: blksize up to 65464 (pxedeck's default cap, the interface MTU, is lifted
 * here, since tftpd-hpa does not cap; dnsmasq caps at the interface MTU by itself). `--pxedeck-cap mtu`
 * keeps pxedeck's own default instead: with `--mtu 9000 --blksizes 8192` that is the jumbo-frame case of
 * issue 17, where pxedeck serves 8192-byte blocks whole and tftpd-hpa does too. pxedeck keeps its 64 KiB per
 * window, so 8192 × 16 is answered with windowsize 8. tftpd-hpa and dnsmasq do not implement windowsize,
 * so they answer windowsize requests with windowsize 1: exactly what a firmware asking for a window gets
 * from them.
 *
 * Windowsize-1 figures are round trips, and a round trip here is two wake-ups: whether server and client
 * share a CPU or wake each other across CPUs (an IPI and an idle exit in this VM: ~50 µs against ~20 µs
 * per round trip) changes a run by 2–3×, for every server alike, and a busy machine makes sharing more
 * likely. Compare the ratios within one run (every repetition visits all servers in turn), use --reps 7
 * for ws1 (`--windowsizes 1 --no-parallel`), and prefer a quiet machine. Measured 2026-11-25 (2 cores):
 *   quiet, 64 MB, median of 3:  ws1 ÷tftpd-hpa 0.96 / 0.99 / 0.96 (atftp 512 / 1468 / 8192),
 *                               1.02 / 0.77 / 0.99 (curl; the 0.77 was 1.00 at --reps 7, 32 MB);
 *                               ws16 7.3× / 6.6× / 2.4×; 10 parallel 0.98× (1.00× at --reps 5)
 *   loaded (VMs beside), reps 5: ws1 1.03 / 1.03 / 1.75 and 1.05 / 1.37 / 0.90; ws16 3.5× / 3.1× / 1.2×;
 *                               10 parallel 1.10×
 *   quiet, 32 MB, reps 5 (final): ws1 0.97 / 0.97 / 0.99 and 1.00 / 1.01 / 1.02; ws16 7.5× / 6.4× / 2.6×;
 *                               10 parallel 1.16× tftpd-hpa, 0.96× dnsmasq
 * At blksize 8192 tftpd-hpa's own figure swings 84–215 MB/s between cases that are identical for it (it
 * ignores windowsize), and pxedeck's window stops at 64 KiB (8 × 8192: more overflows atftp's receive
 * buffer), so the ws16 ratio there is the client's limit, not 3×.
 */
import { createHash } from 'node:crypto';
import { chmodSync, createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { canUseNetns, createNetnsPair, type NetnsPair } from './tftp-netns.js';

const { values } = parseArgs({
  options: {
    'size-mb': { type: 'string', default: '64' },
    'parallel-mb': { type: 'string', default: '30' },
    parallel: { type: 'string', default: '10' },
    reps: { type: 'string', default: '3' },
    quick: { type: 'boolean', default: false },
    servers: { type: 'string', default: 'pxedeck,tftpd-hpa,dnsmasq' },
    blksizes: { type: 'string' },
    windowsizes: { type: 'string' },
    clients: { type: 'string', default: 'atftp,curl' },
    'no-parallel': { type: 'boolean', default: false },
    mtu: { type: 'string', default: '1500' },
    'pxedeck-cap': { type: 'string', default: '65464' },
  },
});

const SERVERS = ['pxedeck', 'tftpd-hpa', 'dnsmasq', 'pxedeck-nogso', 'pxedeck-t0', 'pxedeck-t1'] as const;
/** pxedeck with N transfer threads (0: transfers on its main thread), against its default (defaultTransferThreads). */
const THREADS: Partial<Record<ServerName, string>> = { 'pxedeck-t0': '0', 'pxedeck-t1': '1' };
const isPxedeck = (name: ServerName): boolean => name.startsWith('pxedeck');
type ServerName = (typeof SERVERS)[number];

/** What tftp-serve --loop-delay prints after each burst of transfers: its main thread's event-loop delay (ms). */
interface LoopDelay {
  readonly loopDelay: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly transfers: number;
}
const loopDelays = new Map<ServerName, LoopDelay[]>();

interface Case {
  readonly client: 'atftp' | 'curl';
  readonly blksize: number;
  readonly windowsize: number;
}

const numbers = (list: string | undefined, fallback: number[]): number[] => (list ? list.split(',').map(Number) : fallback);
const blocks = numbers(values.blksizes, values.quick ? [1468] : [512, 1468, 8192]);
const windows = numbers(values.windowsizes, values.quick ? [1, 16] : [1, 4, 16]);
const clients = values.clients.split(',');
const cases: Case[] = [
  ...(clients.includes('atftp') ? blocks.flatMap((blksize) => windows.map((windowsize) => ({ client: 'atftp' as const, blksize, windowsize }))) : []),
  ...(clients.includes('curl') && windows.includes(1) ? blocks.map((blksize) => ({ client: 'curl' as const, blksize, windowsize: 1 })) : []),
];

function sha256(path: string): Promise<string> {
  return new Promise((done, fail) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => done(hash.digest('hex')))
      .on('error', fail);
  });
}

function waitExit(child: ChildProcess, timeoutMs: number): Promise<number> {
  return new Promise((done) => {
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      done(code ?? -1);
    });
  });
}

function clientArgs(server: string, c: Case, remote: string, local: string): [string, string[]] {
  if (c.client === 'curl') {
    return ['curl', ['-s', '--max-time', '120', '--tftp-blksize', String(c.blksize), '-o', local, `tftp://${server}/${remote}`]];
  }
  const args = ['-g', '-r', remote, '-l', local, '--option', `blksize ${c.blksize}`];
  if (c.windowsize > 1) args.push('--option', `windowsize ${c.windowsize}`);
  return ['atftp', [...args, server, '69']];
}

async function fetchOnce(pair: NetnsPair, server: string, c: Case, remote: string, local: string): Promise<number> {
  rmSync(local, { force: true });
  const [command, args] = clientArgs(server, c, remote, local);
  const started = performance.now();
  const child = pair.spawn(pair.client, command, args);
  child.stdout?.resume();
  child.stderr?.resume();
  const code = await waitExit(child, 150_000);
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`${command} exited ${code}`);
  return seconds;
}

async function startServer(pair: NetnsPair, name: ServerName, address: string, root: string): Promise<ChildProcess> {
  let child: ChildProcess;
  if (isPxedeck(name)) {
    const serve = resolve(import.meta.dirname, 'tftp-serve.ts');
    const cap = values['pxedeck-cap'] === 'mtu' ? [] : ['--blksize-cap', values['pxedeck-cap']];
    const args = ['--import', 'tsx', serve, '--address', address, '--port', '69', '--root', root, ...cap, '--windowsize-cap', '64', '--max-transfers', '512'];
    if (name === 'pxedeck-nogso') args.push('--no-gso');
    const threads = THREADS[name];
    if (threads !== undefined) args.push('--threads', threads);
    args.push('--loop-delay');
    child = pair.spawn(pair.server, process.execPath, args);
    await new Promise<void>((ready, fail) => {
      let text = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        if (text.includes('"ready":true')) ready();
        let newline: number;
        while ((newline = text.indexOf('\n')) >= 0) {
          const line = text.slice(0, newline);
          text = text.slice(newline + 1);
          if (line.includes('"loopDelay"')) loopDelays.set(name, [...(loopDelays.get(name) ?? []), JSON.parse(line) as LoopDelay]);
        }
      });
      child.once('exit', (code) => fail(new Error(`pxedeck server exited ${code}`)));
    });
    child.stdout!.resume();
  } else if (name === 'tftpd-hpa') {
    // -L foreground, -s chroot into the root; it drops to `nobody`, hence the world-readable files.
    child = pair.spawn(pair.server, 'in.tftpd', ['-L', '-a', `${address}:69`, '-s', root]);
  } else {
    child = pair.spawn(pair.server, 'dnsmasq', [
      '--keep-in-foreground', '--conf-file=/dev/null', '--port=0', '--enable-tftp', `--tftp-root=${root}`,
      `--listen-address=${address}`, '--bind-interfaces', '--pid-file=', '--user=root', '--group=root',
      '--tftp-max=512', '--log-facility=/dev/null',
    ]);
  }
  child.stderr?.resume();
  if (!name.startsWith('pxedeck')) {
    // Wait until port 69 is bound in the namespace.
    for (let i = 0; i < 50; i += 1) {
      const sockets = pair.exec(pair.server, 'ss', ['-uln']);
      if (sockets.includes(`${address}:69`)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return child;
}

function median(list: readonly number[]): number {
  const sorted = [...list].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function caseName(c: Case): string {
  return `${c.client.padEnd(5)} blksize ${String(c.blksize).padStart(4)} window ${String(c.windowsize).padStart(2)}`;
}

async function main(): Promise<void> {
  const missing = canUseNetns();
  if (missing) {
    console.error(`bench:tftp: ${missing}`);
    process.exit(2);
  }
  const servers = values.servers.split(',').filter((name): name is ServerName => (SERVERS as readonly string[]).includes(name));
  const sizeMb = Number(values['size-mb']);
  const parallelMb = Number(values['parallel-mb']);
  const parallel = Number(values.parallel);
  const reps = Number(values.reps);

  const root = mkdtempSync(join(tmpdir(), 'pxd-tftp-bench-'));
  const out = mkdtempSync(join(tmpdir(), 'pxd-tftp-out-'));
  chmodSync(root, 0o755);
  const big = join(root, 'big.bin');
  const medium = join(root, 'medium.bin');
  writeFileSync(big, randomBytes(sizeMb * 1e6));
  writeFileSync(medium, randomBytes(parallelMb * 1e6));
  chmodSync(big, 0o644);
  chmodSync(medium, 0o644);
  const bigHash = await sha256(big);
  const mediumHash = await sha256(medium);

  const mtu = Number(values.mtu);
  const pair = createNetnsPair({ serverAddresses: servers.length, ...(mtu !== 1500 && { mtu }) });
  const children: ChildProcess[] = [];
  const cleanup = (): void => {
    pair.destroy();
    rmSync(root, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
  };
  process.once('SIGINT', () => {
    cleanup();
    process.exit(130);
  });

  const results = new Map<string, Map<ServerName, number>>();
  const record = (row: string, server: ServerName, mbps: number): void => {
    if (!results.has(row)) results.set(row, new Map());
    results.get(row)!.set(server, mbps);
  };
  const addressOf = new Map(servers.map((server, i) => [server, pair.serverIps[i]!]));

  try {
    for (const server of servers) children.push(await startServer(pair, server, addressOf.get(server)!, root));
    console.log(`TFTP bench: ${sizeMb} MB file over a veth pair (MTU ${mtu}) between two namespaces, median of ${reps} runs; pxedeck's blksize cap ${values['pxedeck-cap'] === 'mtu' ? 'follows the MTU' : values['pxedeck-cap']}`);
    for (const c of cases) {
      const times = new Map<ServerName, number[]>(servers.map((server) => [server, []]));
      for (let rep = 0; rep < reps; rep += 1) {
        for (const server of servers) {
          const local = join(out, 'big.out');
          times.get(server)!.push(await fetchOnce(pair, addressOf.get(server)!, c, 'big.bin', local));
          if ((await sha256(local)) !== bigHash) throw new Error(`${server} ${caseName(c)}: bytes differ`);
        }
      }
      const line = servers.map((server) => {
        const mbps = sizeMb / median(times.get(server)!);
        record(caseName(c), server, mbps);
        return `${server} ${mbps.toFixed(1)}`;
      });
      console.log(`  ${caseName(c)}: ${line.join(', ')} MB/s`);
    }
    if (!values['no-parallel']) {
      const row = `${parallel} × curl 1468, ${parallelMb} MB at once (total)`;
      const c: Case = { client: 'curl', blksize: 1468, windowsize: 1 };
      const totals = new Map<ServerName, number[]>(servers.map((server) => [server, []]));
      for (let rep = 0; rep < reps; rep += 1) {
        for (const server of servers) {
          const locals = Array.from({ length: parallel }, (_, i) => join(out, `medium-${i}.out`));
          const started = performance.now();
          await Promise.all(locals.map((local) => fetchOnce(pair, addressOf.get(server)!, c, 'medium.bin', local)));
          totals.get(server)!.push((parallel * parallelMb) / ((performance.now() - started) / 1000));
          for (const local of locals) if ((await sha256(local)) !== mediumHash) throw new Error(`${server} parallel: bytes differ`);
        }
      }
      for (const server of servers) record(row, server, median(totals.get(server)!));
      console.log(`  ${row}: ${servers.map((server) => `${server} ${results.get(row)!.get(server)!.toFixed(1)}`).join(', ')} MB/s`);
      await new Promise((resolve) => setTimeout(resolve, 300));
      for (const server of servers.filter(isPxedeck)) {
        const bursts = (loopDelays.get(server) ?? []).slice(-reps);
        const text = bursts.map((burst) => `p50 ${burst.loopDelay.p50} / p99 ${burst.loopDelay.p99} / max ${burst.loopDelay.max}`).join('; ');
        console.log(`    ${server} main-thread event-loop delay per burst (ms): ${text}`);
      }
    }
  } finally {
    for (const child of children) if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGTERM');
    await Promise.all(children.map((child) => (child.exitCode === null ? waitExit(child, 5000) : Promise.resolve(0))));
    cleanup();
  }

  const header = ['case'.padEnd(48), ...servers.map((s) => s.padStart(13))];
  const others = servers.filter((s) => !isPxedeck(s));
  if (servers.includes('pxedeck')) header.push(...others.map((s) => `÷${s}`.padStart(11)));
  console.log(`\nMB/s\n${header.join(' ')}`);
  for (const [row, byServer] of results) {
    const cells = [row.padEnd(48), ...servers.map((s) => (byServer.get(s)?.toFixed(1) ?? '-').padStart(13))];
    const ours = byServer.get('pxedeck');
    if (ours !== undefined) {
      for (const other of others) {
        const theirs = byServer.get(other);
        cells.push((theirs ? `${(ours / theirs).toFixed(2)}×` : '-').padStart(11));
      }
    }
    console.log(cells.join(' '));
  }
}

await main();
