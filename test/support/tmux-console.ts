/**
 * The real console in a real terminal: pxedeck in a private tmux server on loopback with unprivileged ports
 * and a temp data dir, read back with capture-pane. Used by the console tests, the installed-package test
 * and the start-up benchmark.
 */
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const tmuxUnavailableReason = spawnSync('tmux', ['-V']).status === 0 ? undefined : 'tmux is not installed (apt install tmux)';

export async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((done) => socket.bind(0, '127.0.0.1', done));
  const { port } = socket.address();
  await new Promise<void>((done) => socket.close(() => done()));
  return port;
}

export async function freeTcpPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  await new Promise<void>((done) => server.close(() => done()));
  return typeof address === 'object' && address ? address.port : 0;
}

export interface ConsolePorts {
  readonly dhcp: number;
  readonly boot: number;
  readonly tftp: number;
  readonly http: number;
  readonly syslog: number;
}

export interface TmuxConsoleOptions {
  /** The command that starts pxedeck, e.g. `node /repo/bin/pxedeck.js` or an installed `…/bin/pxedeck`. */
  readonly pxedeck: string;
  /** The UDP port the test's DHCP client listens on (pxedeck's replies go there). */
  readonly clientPort: number;
  /** Working directory of the console (default: a fresh empty directory, outside any checkout). */
  readonly cwd?: string;
  readonly columns?: number;
  readonly rows?: number;
  /** Written into the boot dir before the start. */
  readonly bootFiles?: Readonly<Record<string, Buffer>>;
}

/** A console run: its screen, its keys, and where its files are. `close()` ends tmux and removes the files. */
export class TmuxConsole {
  readonly work: string;
  readonly dataDir: string;
  readonly bootDir: string;
  private readonly socketName = `pxd${process.pid}${randomBytes(2).toString('hex')}`;
  private readonly session = 'console';

  private constructor(readonly ports: ConsolePorts) {
    this.work = mkdtempSync(join(tmpdir(), 'pxd-console-'));
    this.dataDir = join(this.work, 'data');
    this.bootDir = join(this.work, 'boot');
    mkdirSync(this.dataDir);
    mkdirSync(this.bootDir);
  }

  static async start(options: TmuxConsoleOptions): Promise<TmuxConsole> {
    const ports = { dhcp: await freeUdpPort(), boot: await freeUdpPort(), tftp: await freeUdpPort(), syslog: await freeUdpPort(), http: await freeTcpPort() };
    const console = new TmuxConsole(ports);
    // No control API: two test runs must not fight over 127.0.0.1:7411.
    writeFileSync(join(console.dataDir, 'settings.json'), JSON.stringify({ controlPort: 0 }));
    for (const [name, bytes] of Object.entries(options.bootFiles ?? {})) writeFileSync(join(console.bootDir, name), bytes);
    const cwd = options.cwd ?? join(console.work, 'elsewhere');
    mkdirSync(cwd, { recursive: true });
    const command = [
      // Ink draws nothing until exit when it believes it runs in CI.
      'env -u CI -u CONTINUOUS_INTEGRATION',
      `${options.pxedeck} --interface lo`,
      `--dhcp-port ${ports.dhcp} --boot-server-port ${ports.boot} --dhcp-client-port ${options.clientPort}`,
      `--tftp-port ${ports.tftp} --http-port ${ports.http} --syslog-port ${ports.syslog}`,
      `--data-dir ${console.dataDir} --boot-dir ${console.bootDir}`,
      `2>${join(console.work, 'stderr.txt')}; echo "pxedeck exited $?"; sleep 120`,
    ].join(' ');
    console.tmux('new-session', '-d', '-x', String(options.columns ?? 120), '-y', String(options.rows ?? 40), '-c', cwd, '-s', console.session, command);
    return console;
  }

  tmux(...args: string[]): string {
    const result = spawnSync('tmux', ['-L', this.socketName, ...args], { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  }

  screen(): string {
    return this.tmux('capture-pane', '-p', '-t', this.session);
  }

  async waitForScreen(what: string, test: (text: string) => boolean, timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = this.screen();
      if (test(text)) return text;
      if (Date.now() > deadline) throw new Error(`the screen never showed ${what}; it shows:\n${text}`);
      await sleep(100);
    }
  }

  /** The header once every IPv4 server listens. */
  waitForServers(timeoutMs = 20_000): Promise<string> {
    return this.waitForScreen('the servers listening', (text) => /DHCP ●:\d+ {2}4011 ●:\d+ {2}TFTP ●:\d+ {2}HTTP ●:\d+/.test(text), timeoutMs);
  }

  /** The pid of what the console's shell runs: pxedeck's node, once `env` and its `#!` line have exec'd it. */
  consolePid(): number {
    const shell = this.tmux('display-message', '-p', '-t', this.session, '#{pane_pid}').trim();
    const children = readFileSync(`/proc/${shell}/task/${shell}/children`, 'utf8').split(' ').filter(Boolean);
    if (children.length !== 1) throw new Error(`the console's shell (pid ${shell}) runs ${children.length} processes, not one: ${children.join(' ')}`);
    return Number(children[0]);
  }

  /** The command line of that process. */
  consoleCommandLine(): string[] {
    return readFileSync(`/proc/${this.consolePid()}/cmdline`, 'utf8').split('\0').filter(Boolean);
  }

  /** The console process's environment, as NAME=value strings. */
  consoleEnvironment(): string[] {
    return readFileSync(`/proc/${this.consolePid()}/environ`, 'utf8').split('\0').filter(Boolean);
  }

  async keys(...list: string[]): Promise<void> {
    for (const key of list) {
      this.tmux('send-keys', '-t', this.session, key);
      await sleep(60);
    }
  }

  close(): void {
    spawnSync('tmux', ['-L', this.socketName, 'kill-server']);
    rmSync(this.work, { recursive: true, force: true });
  }
}
