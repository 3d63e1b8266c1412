/**
 * pxedeck as a technician gets it: the README's install command (install.sh, here without apt and into a
 * temp prefix) run from a copy of the checkout packs pxedeck and installs the tarball globally; the installed
 * command then runs the console in tmux from a directory outside any checkout, and a booting client appears.
 * The checkout's own bin works from elsewhere too, and the systemd unit's command line runs as systemd
 * would start it (no terminal, no HOME, cwd /).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRequest, openTestClient, type TestDhcpClient } from '../support/dhcp-client.js';
import { commandEnvironment, commandNodeFlags } from '../support/pxedeck-command.js';
import { freeTcpPort, freeUdpPort, TmuxConsole, tmuxUnavailableReason } from '../support/tmux-console.js';

const repo = resolve(import.meta.dirname, '../..');
const MAC = '52:54:00:1a:57:01';

/** The files a fresh clone has (tracked, plus new files not yet committed), copied without node_modules or builds. */
function copyCheckout(to: string): void {
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: repo, encoding: 'utf8' }).split('\0').filter(Boolean);
  for (const file of files) {
    if (!existsSync(join(repo, file))) continue;
    mkdirSync(dirname(join(to, file)), { recursive: true });
    copyFileSync(join(repo, file), join(to, file));
  }
}

/** Every file of the installed package, relative to its folder (node_modules left out). */
function packageFiles(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((entry) => {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.name === 'node_modules') return [];
    return entry.isDirectory() ? packageFiles(dir, path) : [path];
  });
}

describe.skipIf(tmuxUnavailableReason !== undefined)('installed as the README says', () => {
  let work: string;
  let installed: string;
  let installOutput: string;
  let client: TestDhcpClient;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'pxd-install-'));
    copyCheckout(join(work, 'checkout'));
    const result = spawnSync('sh', [join(work, 'checkout', 'install.sh'), '--no-apt', '--prefix', join(work, 'prefix')], {
      cwd: work,
      encoding: 'utf8',
      // The registry is reachable in CI, but the packages are already in npm's cache from the checkout's own npm ci.
      env: { ...process.env, npm_config_prefer_offline: 'true' },
      timeout: 280_000,
    });
    installOutput = `${result.stdout}\n${result.stderr}`;
    if (result.status !== 0) throw new Error(`install.sh failed (${result.status ?? result.signal}):\n${installOutput.slice(-3000)}`);
    installed = join(work, 'prefix', 'bin', 'pxedeck');
    client = await openTestClient();
  }, 300_000);

  afterAll(() => {
    client?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('installs the command and a package holding only what runs', () => {
    expect(installOutput).toContain(`pxedeck is installed: ${installed}`);
    const files = packageFiles(join(work, 'prefix', 'lib', 'node_modules', 'pxedeck'));
    expect(files).toContain('bin/pxedeck.js');
    expect(files).toContain('dist/src/main.js');
    expect(files).toContain('presets/profiles/debian-installer.yaml');
    expect(files).toContain('contrib/pxedeck.service');
    expect(files.filter((file) => /^(test|bench|src|components)\//.test(file) || file.endsWith('.ts') || file.endsWith('.tsx'))).toEqual([]);
    // No TypeScript loader at run time: tsx is not even installed beside it.
    expect(existsSync(join(work, 'prefix', 'lib', 'node_modules', 'pxedeck', 'node_modules', 'tsx'))).toBe(false);
  });

  async function bootsOneClient(pxedeck: string, checkRuntime?: (commandLine: string[], environment: string[]) => void): Promise<void> {
    const term = await TmuxConsole.start({ pxedeck, clientPort: client.port, columns: 80, rows: 24 });
    try {
      await term.waitForServers();
      checkRuntime?.(term.consoleCommandLine(), term.consoleEnvironment());
      // Loopback has no neighbour table: ciaddr tells pxedeck which MAC 127.0.0.1 is.
      const discover = buildRequest({ type: 'DISCOVER', mac: MAC, profile: 'bios-pxe', ciaddr: '127.0.0.1' });
      await client.send(discover, term.ports.dhcp);
      expect((await client.reply(discover.xid, 5000))?.packet.file).toBe('undionly.kpxe');
      await term.waitForScreen('the booting machine', (text) => text.split('\n').some((line) => line.includes(MAC) && /BIOS +DHCP/.test(line)));
      await term.keys('q');
      expect(await term.waitForScreen('pxedeck exiting', (text) => /pxedeck exited \d+/.test(text))).toMatch(/pxedeck exited 0/);
      expect(readFileSync(join(term.work, 'stderr.txt'), 'utf8')).not.toMatch(/Error|at .*\.js:\d+/);
    } finally {
      term.close();
    }
  }

  it('the installed console, started outside any checkout at 80×24, shows the header and a booting client', async () => {
    await bootsOneClient(installed, (commandLine, environment) => {
      // The `#!` line's variables and node flags reach node through `env -S`: the heap and malloc settings the
      // figures were measured with (docs/performance.md) are the ones a technician's run gets.
      const bin = join(work, 'prefix', 'lib', 'node_modules', 'pxedeck', 'bin', 'pxedeck.js');
      const flags = commandNodeFlags(bin);
      expect(flags).toContain('--max-semi-space-size=2');
      expect(commandEnvironment(bin)).toEqual({ MALLOC_ARENA_MAX: '1' });
      expect(environment).toContain('MALLOC_ARENA_MAX=1');
      expect(commandLine.slice(1, 1 + flags.length)).toEqual(flags);
      expect(commandLine[1 + flags.length]).toMatch(/\/pxedeck(\.js)?$/);
    });
  }, 60_000);

  it("the checkout's own bin, started from another directory, does too", async () => {
    await bootsOneClient(`node ${join(repo, 'bin', 'pxedeck.js')}`);
  }, 60_000);

  it("a checkout's bin builds itself when its build is missing or older than the sources (a fresh clone, a git pull)", () => {
    const checkout = join(work, 'checkout');
    const buildInfo = join(checkout, 'dist', '.tsbuildinfo');
    const help = () => spawnSync(process.execPath, [join(checkout, 'bin', 'pxedeck.js'), '--help'], { cwd: work, encoding: 'utf8', timeout: 120_000 });
    rmSync(join(checkout, 'dist'), { recursive: true, force: true });
    let result = help();
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^pxedeck — network-boot machines/);
    expect(existsSync(join(checkout, 'dist', 'src', 'main.js'))).toBe(true);
    // A source edited after the build: rebuilt before it runs, the compiler's words kept off stdout.
    const built = new Date(Date.now() - 60_000);
    const edited = new Date(Date.now() - 30_000);
    utimesSync(buildInfo, built, built);
    utimesSync(join(checkout, 'src', 'main.tsx'), edited, edited);
    result = help();
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^pxedeck — network-boot machines/);
    expect(statSync(buildInfo).mtimeMs).toBeGreaterThan(edited.getTime());
  }, 130_000);

  it("the systemd unit's command runs headless as systemd starts it: no terminal, no HOME, cwd /, stops on SIGTERM", async () => {
    const unit = readFileSync(join(repo, 'contrib', 'pxedeck.service'), 'utf8');
    const execStart = /^ExecStart=(.*)$/m.exec(unit)![1]!;
    const dataDir = join(work, 'var-lib-pxedeck');
    mkdirSync(dataDir, { recursive: true });
    const testArgs = ['--interface', 'lo', '--dhcp-port', String(await freeUdpPort()), '--boot-server-port', String(await freeUdpPort()), '--dhcp-client-port', String(client.port), '--tftp-port', String(await freeUdpPort()), '--http-port', String(await freeTcpPort()), '--syslog-port', String(await freeUdpPort())];
    // As install.sh writes it: the full path of the installed command; the data dir is the unit's, moved to a temp dir.
    const words = execStart.replace(/^pxedeck /, `${installed} `).replace('/var/lib/pxedeck', dataDir).split(/\s+/).filter((word) => word !== '$PXEDECK_ARGS');
    expect(execStart).toContain('--headless');
    const child = spawn(words[0]!, [...words.slice(1), ...testArgs], { cwd: '/', env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    try {
      const deadline = Date.now() + 20_000;
      while (!/"kind":"server\.listening".*"server":"dhcp4/.test(stdout) && Date.now() < deadline) await new Promise((done) => setTimeout(done, 100));
      expect(stdout).toMatch(/"kind":"server\.listening"/);
      // Every line is one JSON event (what the journal keeps).
      for (const line of stdout.trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
    } finally {
      child.kill('SIGTERM');
    }
    // TimeoutStopSec=10: it must be gone well before systemd would kill it.
    const code = await Promise.race([exited, new Promise<'hung'>((done) => setTimeout(() => done('hung'), 8000))]);
    if (code === 'hung') child.kill('SIGKILL');
    expect(code).toBe(0);
    if (spawnSync('systemd-analyze', ['--version']).status === 0) {
      const verify = spawnSync('systemd-analyze', ['verify', join(repo, 'contrib', 'pxedeck.service')], { encoding: 'utf8' });
      // Only the bare "pxedeck" (install.sh makes it a full path) may be reported.
      expect(verify.stderr.split('\n').filter((line) => line && !line.includes('Command pxedeck is not executable'))).toEqual([]);
    }
  }, 40_000);
});
