/**
 * `npm run bench:http`: 32 concurrent curl clients each download one 200 MB file, from pxedeck's HTTP
 * server and from nginx (Debian's, with its stock sendfile setup) in the same run, both on 127.0.0.1;
 * then one client alone. Prints per round MB/s and the servers' CPU seconds per GB sent, and the
 * pxedeck/nginx ratios (issue 17's targets: CPU per GB at 32 clients <= 1.2x nginx's, one client's MB/s
 * >= 0.9x nginx's), and pxedeck's RSS before, at peak and after (the file is streamed, never buffered
 * whole: memory should stay flat). pxedeck's server is the compiled one (dist/, built by the npm script).
 *
 * pxedeck runs in its own process (this script with --serve), so its RSS is its own and both servers
 * compete with the same 32 curl processes for the same 2 cores. nginx is started with an explicit config
 * in a temp dir and stopped by PID. Needs `curl` and `nginx` (apt-get install nginx-light).
 *
 * Rounds alternate between the two servers and the ratio is the median of per-round ratios: other load
 * on the machine moves both numbers, the ratio much less.
 *
 * Options: --clients N (32), --size-mb N (200), --rounds N (5), --single-rounds N (5; 0 skips the one-client case).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index === -1 ? NaN : Number(process.argv[index + 1]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

async function serve(dir: string): Promise<void> {
  const { createHttpServer } = (await import(new URL('../dist/src/servers/http/server.js', import.meta.url).href)) as typeof import('../src/servers/http/server.js');
  let transfers = 0;
  const server = await createHttpServer({
    bind: { address: '127.0.0.1', port: 0 },
    emit: (event) => {
      if (event.kind === 'transfer.done') transfers++;
    },
    renderIpxeScript: async () => ({ script: '#!ipxe\n' }),
    roots: [{ prefix: '/files', dir }],
  });
  process.stdout.write(`port ${server.port}\n`);
  process.stdin.on('data', () => process.stdout.write(`transfers ${transfers}\n`));
  process.stdin.on('end', () => void server.close().then(() => process.exit(0)));
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

const CLOCK_TICKS = 100;

/** User + system CPU seconds of a process and its children that have exited... and of nginx's workers. */
function cpuSeconds(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone
    }
  }
  return ticks / CLOCK_TICKS;
}

/** nginx's master and its workers. */
function processTree(root: number): number[] {
  const children = readFileSync(`/proc/${root}/task/${root}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  return [root, ...children];
}

function rssKiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) : NaN;
}

function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`no "${pattern}" from the server within ${timeoutMs} ms`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString();
      const match = pattern.exec(buffered);
      if (match) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        resolve(match);
      }
    };
    child.stdout!.on('data', onData);
  });
}

function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`nothing listens on ${port}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

interface RoundResult {
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly megabytesPerSecond: number;
  /** Server CPU seconds per GB (10^9 bytes) sent. */
  readonly cpuPerGb: number;
  readonly failures: number;
}

/**
 * All clients at once, each fetching the file `times` times over one connection; each curl checks the
 * sizes it got. Bounded by curl's own --max-time.
 */
async function round(url: string, clients: number, size: number, serverPids: readonly number[], onTick?: () => void, times = 1): Promise<RoundResult> {
  const cpuBefore = cpuSeconds(serverPids);
  const started = performance.now();
  const ticker = onTick ? setInterval(onTick, 100) : undefined;
  const results = await Promise.all(
    Array.from(
      { length: clients },
      () =>
        new Promise<boolean>((resolve) => {
          const fetches = Array.from({ length: times }, () => ['-o', '/dev/null', url]).flat();
          const child = spawn('curl', ['--silent', '--show-error', '--max-time', '300', '-w', '%{size_download} %{http_code}\\n', ...fetches], { stdio: ['ignore', 'pipe', 'inherit'] });
          let out = '';
          child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
          child.on('close', (code) => resolve(code === 0 && out.trim().split('\n').every((line) => line === `${size} 200`) && out.trim().split('\n').length === times));
        }),
    ),
  );
  if (ticker) clearInterval(ticker);
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuSeconds(serverPids) - cpuBefore;
  const bytes = clients * size * times;
  return { seconds, cpuSeconds: cpu, megabytesPerSecond: bytes / 1e6 / seconds, cpuPerGb: cpu / (bytes / 1e9), failures: results.filter((ok) => !ok).length };
}

function nginxBinary(): string | undefined {
  for (const candidate of ['/usr/sbin/nginx', '/usr/bin/nginx']) if (existsSync(candidate)) return candidate;
  return undefined;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

async function main(): Promise<void> {
  const clients = option('clients', 32);
  const sizeMb = option('size-mb', 200);
  const rounds = option('rounds', 5);
  const singleRounds = process.argv.includes('--single-rounds') ? Math.max(0, Number(process.argv[process.argv.indexOf('--single-rounds') + 1]) || 0) : 5;
  const nginx = nginxBinary();
  if (!nginx) {
    console.error('nginx not found: apt-get install -y nginx-light (the bench compares against it)');
    process.exit(2);
  }

  const work = mkdtempSync(join(tmpdir(), 'pxd-bench-http-'));
  // nginx's workers drop to an unprivileged user: the tree must be readable by it.
  chmodSync(work, 0o755);
  const files = join(work, 'files');
  execFileSync('mkdir', ['-p', files, join(work, 'nginx', 'logs')]);
  chmodSync(files, 0o755);
  const size = sizeMb * 1_000_000;
  const filePath = join(files, 'initrd.img');
  await new Promise<void>((resolve, reject) => {
    const out = createWriteStream(filePath, { mode: 0o644 });
    out.on('error', reject);
    const block = randomBytes(1_000_000);
    for (let i = 0; i < sizeMb; i++) out.write(block);
    out.end(resolve);
  });
  readFileSync(filePath); // into the page cache, so both servers read from memory

  let pxedeck: ChildProcess | undefined;
  let nginxProcess: ChildProcess | undefined;
  try {
    pxedeck = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--serve', files], { stdio: ['pipe', 'pipe', 'inherit'] });
    const port = Number((await waitForLine(pxedeck, /port (\d+)/, 20_000))[1]);

    const nginxPort = await freePort();
    const conf = join(work, 'nginx', 'nginx.conf');
    writeFileSync(
      conf,
      [
        'daemon off;',
        'master_process on;',
        'worker_processes auto;',
        `pid ${join(work, 'nginx', 'nginx.pid')};`,
        `error_log ${join(work, 'nginx', 'logs', 'error.log')} warn;`,
        'events { worker_connections 1024; }',
        'http {',
        '  access_log off;',
        '  sendfile on;',
        '  tcp_nopush on;',
        '  keepalive_timeout 65;',
        `  client_body_temp_path ${join(work, 'nginx', 'body')};`,
        `  proxy_temp_path ${join(work, 'nginx', 'proxy')};`,
        `  fastcgi_temp_path ${join(work, 'nginx', 'fastcgi')};`,
        `  uwsgi_temp_path ${join(work, 'nginx', 'uwsgi')};`,
        `  scgi_temp_path ${join(work, 'nginx', 'scgi')};`,
        `  server { listen 127.0.0.1:${nginxPort}; location /files/ { alias ${files}/; } }`,
        '}',
        '',
      ].join('\n'),
    );
    nginxProcess = spawn(nginx, ['-p', join(work, 'nginx'), '-c', conf], { stdio: ['ignore', 'inherit', 'inherit'] });
    await waitForPort(nginxPort, 10_000);

    const pxedeckUrl = `http://127.0.0.1:${port}/files/initrd.img`;
    const nginxUrl = `http://127.0.0.1:${nginxPort}/files/initrd.img`;
    // One small warm-up each (JIT, connection setup paths).
    const pxedeckPids = [pxedeck.pid!];
    const nginxPids = processTree(nginxProcess.pid!);
    await round(pxedeckUrl, 2, size, pxedeckPids);
    await round(nginxUrl, 2, size, nginxPids);

    const rssBefore = rssKiB(pxedeck.pid!);
    let rssPeak = rssBefore;
    const sample = (): void => {
      rssPeak = Math.max(rssPeak, rssKiB(pxedeck!.pid!));
    };
    console.log(`${clients} clients × ${sizeMb} MB over 127.0.0.1, ${rounds} rounds each (pxedeck pid ${pxedeck.pid}, nginx pid ${nginxProcess.pid})`);
    const ours: number[] = [];
    const theirs: number[] = [];
    const ratios: number[] = [];
    const cpuRatios: number[] = [];
    const describe = (r: RoundResult): string =>
      `${r.megabytesPerSecond.toFixed(0)} MB/s (${r.seconds.toFixed(2)} s, CPU ${r.cpuSeconds.toFixed(2)} s = ${r.cpuPerGb.toFixed(3)} s/GB${r.failures ? `, ${r.failures} FAILED` : ''})`;
    for (let i = 1; i <= rounds; i++) {
      const a = await round(pxedeckUrl, clients, size, pxedeckPids, sample);
      const b = await round(nginxUrl, clients, size, nginxPids);
      ours.push(a.megabytesPerSecond);
      theirs.push(b.megabytesPerSecond);
      ratios.push(a.megabytesPerSecond / b.megabytesPerSecond);
      cpuRatios.push(a.cpuPerGb / b.cpuPerGb);
      console.log(`round ${i}: pxedeck ${describe(a)}  nginx ${describe(b)}  MB/s ratio ${ratios.at(-1)!.toFixed(2)}, CPU/GB ratio ${cpuRatios.at(-1)!.toFixed(2)}`);
    }
    const single: number[] = [];
    for (let i = 1; i <= singleRounds; i++) {
      // One client fetching the file 5 times over one connection: a single 200 MB fetch takes ~0.1 s.
      const a = await round(pxedeckUrl, 1, size, pxedeckPids, sample, 5);
      const b = await round(nginxUrl, 1, size, nginxPids, undefined, 5);
      single.push(a.megabytesPerSecond / b.megabytesPerSecond);
      console.log(`one client, round ${i}: pxedeck ${describe(a)}  nginx ${describe(b)}  MB/s ratio ${single.at(-1)!.toFixed(2)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const rssAfter = rssKiB(pxedeck.pid!);
    const ratio = median(ratios);
    const cpuRatio = median(cpuRatios);
    console.log(`${clients} clients, medians of rounds: pxedeck ${median(ours).toFixed(0)} MB/s, nginx ${median(theirs).toFixed(0)} MB/s, MB/s ratio ${ratio.toFixed(2)}; CPU per GB ratio ${cpuRatio.toFixed(2)} (target <= 1.20) ${cpuRatio <= 1.2 ? 'OK' : 'ABOVE TARGET'}`);
    if (single.length > 0) {
      const singleRatio = median(single);
      console.log(`one client, median of rounds: MB/s ratio ${singleRatio.toFixed(2)} (target >= 0.90) ${singleRatio >= 0.9 ? 'OK' : 'BELOW TARGET'}`);
    }
    console.log(`pxedeck RSS: before ${(rssBefore / 1024).toFixed(1)} MiB, peak ${(rssPeak / 1024).toFixed(1)} MiB, after ${(rssAfter / 1024).toFixed(1)} MiB (file ${sizeMb} MB × ${clients} clients = ${((sizeMb * clients) / 1000).toFixed(1)} GB sent per round)`);
  } finally {
    if (nginxProcess?.pid !== undefined && nginxProcess.exitCode === null) {
      nginxProcess.kill('SIGQUIT');
      await new Promise((resolve) => nginxProcess!.once('exit', resolve));
    }
    if (pxedeck?.pid !== undefined && pxedeck.exitCode === null) {
      pxedeck.stdin!.end();
      await new Promise((resolve) => {
        const timer = setTimeout(() => pxedeck!.kill('SIGKILL'), 5000);
        pxedeck!.once('exit', () => resolve(clearTimeout(timer)));
      });
    }
    rmSync(work, { recursive: true, force: true });
  }
}

const serveIndex = process.argv.indexOf('--serve');
if (serveIndex !== -1) await serve(process.argv[serveIndex + 1]!);
else await main();
