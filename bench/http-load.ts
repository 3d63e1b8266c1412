/**
 * What the HTTP benchmarks share: many curl clients at once against a server on 127.0.0.1 (bounded by
 * curl's own --max-time), the server's CPU seconds and RSS from /proc, and Debian's nginx with its stock
 * sendfile setup as the reference, started from a config in a temp dir and stopped by PID.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { TICKS_PER_SECOND } from './cpu-steal.js';

export function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index === -1 ? NaN : Number(process.argv[index + 1]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/**
 * The fields of /proc/PID/stat after the command name (the state first, the parent's PID second, utime and
 * stime at 11 and 12); undefined once the process is gone. The name is in parentheses and may hold spaces and
 * parentheses ("npm exec tsx be"), so the fields start after the last ") ".
 */
export function processStatFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** User + system CPU seconds of these processes (a server, or nginx's master and workers); a gone one counts 0. */
export function cpuSeconds(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const fields = processStatFields(pid);
    if (fields) ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / TICKS_PER_SECOND;
}

/** A process and its descendants (nginx's master and its workers), for CPU and RSS figures. */
export function processTree(root: number): number[] {
  try {
    const children = readFileSync(`/proc/${root}/task/${root}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    return [root, ...children.flatMap(processTree)];
  } catch {
    return [root];
  }
}

/** VmRSS of a process in KiB; NaN once it is gone. */
export function rssKiB(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : NaN;
  } catch {
    return NaN;
  }
}

export interface Memory {
  readonly rssKiB: number;
  /** Of rssKiB: the process's own pages (heaps, stacks) and the file-backed ones (mostly the node binary's code, shared). */
  readonly anonKiB: number;
  readonly fileKiB: number;
  readonly threads: number;
}

/** RSS of a process and, for a master (nginx), its children. */
export function memoryOf(pids: readonly number[]): Memory {
  let rssKiB = 0;
  let anonKiB = 0;
  let fileKiB = 0;
  let threads = 0;
  for (const pid of pids) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const field = (name: string): number => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
      rssKiB += field('VmRSS');
      anonKiB += field('RssAnon');
      fileKiB += field('RssFile') + field('RssShmem');
      threads += field('Threads');
    } catch {
      // gone
    }
  }
  return { rssKiB, anonKiB, fileKiB, threads };
}

export function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
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

export function waitForPort(port: number, timeoutMs: number): Promise<void> {
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

export interface RoundResult {
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly megabytesPerSecond: number;
  /** Bytes all clients got together. */
  readonly bytes: number;
  readonly failures: number;
}

/** Server CPU seconds per GB (10^9 bytes) sent. */
export const cpuPerGb = (result: RoundResult): number => result.cpuSeconds / (result.bytes / 1e9);

export interface Download {
  readonly url: string;
  readonly size: number;
}

/** All clients at once, each fetching `downloads` in turn on one curl; each size is checked. */
export async function round(downloads: readonly Download[], clients: number, serverPids: readonly number[], onTick?: () => void): Promise<RoundResult> {
  const cpuBefore = cpuSeconds(serverPids);
  const started = performance.now();
  const ticker = onTick ? setInterval(onTick, 100) : undefined;
  const expected = downloads.map((download) => `${download.size} 200`).join('\n');
  const results = await Promise.all(
    Array.from(
      { length: clients },
      () =>
        new Promise<boolean>((resolve) => {
          const args = ['--silent', '--show-error', '--max-time', '300', '-w', '%{size_download} %{http_code}\\n', ...downloads.flatMap((download) => ['-o', '/dev/null', download.url])];
          const child = spawn('curl', args, { stdio: ['ignore', 'pipe', 'inherit'] });
          let out = '';
          child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
          child.on('close', (code) => resolve(code === 0 && out.trim() === expected));
        }),
    ),
  );
  if (ticker) clearInterval(ticker);
  const seconds = (performance.now() - started) / 1000;
  const bytes = clients * downloads.reduce((sum, download) => sum + download.size, 0);
  return { seconds, cpuSeconds: cpuSeconds(serverPids) - cpuBefore, megabytesPerSecond: bytes / 1e6 / seconds, bytes, failures: results.filter((ok) => !ok).length };
}

export function nginxBinary(): string | undefined {
  for (const candidate of ['/usr/sbin/nginx', '/usr/bin/nginx']) if (existsSync(candidate)) return candidate;
  return undefined;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export interface Nginx {
  readonly port: number;
  readonly process: ChildProcess;
  /** Master and workers, for cpuSeconds (read each time: the workers start after the port opens). */
  readonly pids: readonly number[];
  stop(): Promise<void>;
}

/** nginx serving each `location` prefix (e.g. "/files/") from a directory; its state lives under `work`/nginx. */
export async function startNginx(binary: string, work: string, locations: ReadonlyArray<{ readonly prefix: string; readonly dir: string }>): Promise<Nginx> {
  const home = join(work, 'nginx');
  execFileSync('mkdir', ['-p', join(home, 'logs')]);
  const port = await freePort();
  const conf = join(home, 'nginx.conf');
  writeFileSync(
    conf,
    [
      'daemon off;',
      'master_process on;',
      'worker_processes auto;',
      `pid ${join(home, 'nginx.pid')};`,
      `error_log ${join(home, 'logs', 'error.log')} warn;`,
      'events { worker_connections 1024; }',
      'http {',
      '  access_log off;',
      '  sendfile on;',
      '  tcp_nopush on;',
      '  keepalive_timeout 65;',
      ...['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `  ${kind === 'body' ? 'client_body' : kind}_temp_path ${join(home, kind)};`),
      `  server { listen 127.0.0.1:${port}; ${locations.map((location) => `location ${location.prefix} { alias ${location.dir}/; }`).join(' ')} }`,
      '}',
      '',
    ].join('\n'),
  );
  const child = spawn(binary, ['-p', home, '-c', conf], { stdio: ['ignore', 'inherit', 'inherit'] });
  await waitForPort(port, 10_000);
  return {
    port,
    process: child,
    get pids() {
      return processTree(child.pid!);
    },
    stop: async () => {
      if (child.pid === undefined || child.exitCode !== null) return;
      child.kill('SIGQUIT');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

/**
 * A bench script run as its own HTTP server child (`script --serve ARG`), so its CPU and RSS are its own:
 * the child prints `port N` once it listens and ends when its stdin closes (stopServerChild).
 */
export async function startServerChild(script: string, arg: string): Promise<{ readonly child: ChildProcess; readonly port: number }> {
  const child = spawn(process.execPath, [...process.execArgv, script, '--serve', arg], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    return { child, port: Number((await waitForLine(child, /port (\d+)/, 20_000))[1]) };
  } catch (error) {
    await stopServerChild(child);
    throw error;
  }
}

/** The child's side of startServerChild: says its port, closes the server when the parent closes stdin. */
export function serveForParent(port: number, close: () => Promise<unknown>): void {
  process.stdout.write(`port ${port}\n`);
  process.stdin.on('data', () => undefined);
  process.stdin.on('end', () => void close().then(() => process.exit(0)));
}

/** Ends a server child started with stdin as its lifeline: stdin closed, then SIGKILL after 5 s. */
export async function stopServerChild(child: ChildProcess | undefined): Promise<void> {
  if (child?.pid === undefined || child.exitCode !== null) return;
  child.stdin!.end();
  await new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => resolve(clearTimeout(timer)));
  });
}
