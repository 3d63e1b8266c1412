/**
 * The compiled CLI on loopback when a TCP port it wants is taken: a technician's laptop often runs a web server
 * on 80. HTTP taken is a one-line operator error naming the holder and the flag (it was Node's stack trace);
 * the control API's port taken is a warning, and the boot services run without it.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli-run.js';

const bin = resolve(import.meta.dirname, '../../bin/pxedeck.js');
const dirs: string[] = [];
const holders: Server[] = [];

afterEach(() => {
  for (const holder of holders.splice(0)) holder.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A TCP port on 127.0.0.1 held by this test process. */
async function heldPort(): Promise<number> {
  const holder = createServer();
  holders.push(holder);
  await new Promise<void>((done) => holder.listen(0, '127.0.0.1', done));
  return (holder.address() as { port: number }).port;
}

function dataDirs(): { data: string; boot: string } {
  const dir = mkdtempSync(join(tmpdir(), 'pxedeck-busy-'));
  dirs.push(dir);
  return { data: join(dir, 'data'), boot: join(dir, 'boot') };
}

/** Loopback, every UDP port picked by the kernel, so only the TCP port under test can be busy. */
const loopbackArgs = (http: number, dir: { data: string; boot: string }) => [
  '--headless',
  '--interface',
  'lo',
  ...['--dhcp-port', '0', '--boot-server-port', '0', '--dhcp-client-port', '0', '--tftp-port', '0', '--syslog-port', '0'],
  ...['--http-port', String(http), '--data-dir', dir.data, '--boot-dir', dir.boot],
];

describe('a TCP port pxedeck wants is taken', () => {
  it('HTTP: exits 1 with one line naming who holds the port and the flag that moves it', async () => {
    const port = await heldPort();
    const dir = dataDirs();
    const result = await runCli(...loopbackArgs(port, dir));
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^pxedeck: Cannot listen on TCP 127\\.0\\.0\\.1:${port}: the port is already in use by node \\(pid ${process.pid}: `));
    expect(lines[0]).toContain('--http-port');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('the control API: a warning, and every boot service runs without it', async () => {
    const controlPort = await heldPort();
    const dir = dataDirs();
    const http = await heldPort();
    // The HTTP port freed just before the start: only the control API's is taken.
    await new Promise((done) => holders.pop()!.close(done));
    mkdirSync(dir.data, { recursive: true, mode: 0o700 });
    writeFileSync(join(dir.data, 'settings.json'), JSON.stringify({ controlPort }));
    const child = spawn(process.execPath, [bin, ...loopbackArgs(http, dir)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const seen: Array<{ kind: string; level?: string; message?: string; server?: string }> = [];
    try {
      const warned = await new Promise<string>((resolveWarning, reject) => {
        const timer = setTimeout(() => reject(new Error(`no warning in 20 s; saw ${JSON.stringify(seen.slice(-5))}`)), 20_000);
        createInterface({ input: child.stdout! }).on('line', (line) => {
          const event = JSON.parse(line) as (typeof seen)[number];
          seen.push(event);
          if (event.kind === 'notice' && event.message?.startsWith('no control API')) {
            clearTimeout(timer);
            resolveWarning(`${event.level}: ${event.message}`);
          }
        });
        child.once('exit', (code) => reject(new Error(`pxedeck exited ${code} before the warning`)));
      });
      expect(warned).toMatch(new RegExp(`^warning: no control API: Cannot listen on TCP 127\\.0\\.0\\.1:${controlPort}: the port is already in use by node \\(pid ${process.pid}`));
      expect(warned).toContain('controlPort in settings.json');
      expect(seen.some((event) => event.kind === 'server.listening' && event.server === 'http')).toBe(true);
    } finally {
      child.kill('SIGTERM');
    }
    const code = await new Promise((done) => (child.exitCode !== null ? done(child.exitCode) : child.once('exit', done)));
    expect(code).toBe(0);
  });
});
