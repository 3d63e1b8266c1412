// The console's servers on their own thread, as the console starts them: the compiled worker (dist/, which the
// global setup keeps fresh), on loopback with unprivileged ports and a temp data dir.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { getPriority, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseCli } from '../../src/cli/args.js';
import type { PxedeckEvent } from '../../src/servers/events.js';
import { encode } from '../../src/protocol/dhcp4/encode.js';
import { buildRequest, openTestClient, type TestDhcpClient } from '../support/dhcp-client.js';
import { freeTcpPort, freeUdpPort } from '../support/tmux-console.js';

type ThreadModule = typeof import('../../src/runtime/runtime-thread.js');
type OperatorErrorModule = typeof import('../../src/runtime/operator-error.js');
const compiled = (file: string) => pathToFileURL(resolve(import.meta.dirname, '../../dist/src/runtime', file)).href;
const { createRuntimeThread } = (await import(compiled('runtime-thread.js'))) as ThreadModule;
const { isOperatorError } = (await import(compiled('operator-error.js'))) as OperatorErrorModule;

const MAC = '52:54:00:7e:11:01';
let work: string;
let client: TestDhcpClient;

async function loopbackArgs(dataDir: string): Promise<{ argv: string[]; dhcpPort: number }> {
  mkdirSync(dataDir, { recursive: true });
  // No control API: two test runs must not fight over 127.0.0.1:7411.
  writeFileSync(join(dataDir, 'settings.json'), JSON.stringify({ controlPort: 0 }));
  const dhcpPort = await freeUdpPort();
  const argv = ['--interface', 'lo', '--data-dir', dataDir, '--boot-dir', join(work, 'boot')];
  argv.push('--dhcp-port', String(dhcpPort), '--boot-server-port', String(await freeUdpPort()), '--dhcp-client-port', String(client.port));
  argv.push('--tftp-port', String(await freeUdpPort()), '--http-port', String(await freeTcpPort()), '--syslog-port', String(await freeUdpPort()));
  return { argv, dhcpPort };
}

/** The nice value of each of this process's threads (field 19 of /proc/self/task/TID/stat). */
function threadNices(): number[] {
  return readdirSync('/proc/self/task').map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  });
}

async function eventually<T>(what: string, find: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`never saw ${what}`);
    await new Promise((done) => setTimeout(done, 20));
  }
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'pxd-thread-'));
  mkdirSync(join(work, 'boot'));
  client = await openTestClient();
});
afterAll(() => {
  client.close();
  rmSync(work, { recursive: true, force: true });
});

describe('the servers on their own thread', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  it('answer DHCP while the console’s thread is held, and hand every event over in order', async () => {
    const events: PxedeckEvent[] = [];
    const thread = createRuntimeThread((event) => events.push(event));
    const { argv, dhcpPort } = await loopbackArgs(join(work, 'answer'));
    const runtime = await thread.start(parseCli(argv));
    close = () => runtime.close();
    expect(events.some((event) => event.kind === 'server.listening' && event.server.startsWith('dhcp4'))).toBe(true);
    // Where the two share a core, the console's thread gives way: it alone runs at nice 10, the servers' at 0.
    expect(getPriority()).toBe(10);
    expect(threadNices().filter((nice) => nice === 10)).toHaveLength(1);
    expect(threadNices().filter((nice) => nice === 0).length).toBeGreaterThan(1);

    // Loopback has no neighbour table: ciaddr tells pxedeck which MAC 127.0.0.1 is.
    const discover = buildRequest({ type: 'DISCOVER', mac: MAC, profile: 'bios-pxe', ciaddr: '127.0.0.1' });
    const sentAt = Date.now();
    await client.send(discover, dhcpPort);
    // A console frame at its worst, 40 times over: nothing on this thread runs until it ends.
    while (Date.now() - sentAt < 600);
    const offer = await client.reply(discover.xid, 5000);
    expect(offer).not.toBeNull();

    const sent = await eventually('the OFFER event', () => events.find((event) => event.kind === 'dhcp.sent' && event.xid === discover.xid));
    // Stamped by the worker as it answered: long before this thread was free again.
    expect(sent.time - sentAt).toBeLessThan(300);
    const received = events.findIndex((event) => event.kind === 'dhcp.received' && event.xid === discover.xid);
    expect(received).toBeGreaterThanOrEqual(0);
    expect(received).toBeLessThan(events.indexOf(sent));
    // The options crossed readable: the console's detail view lists them.
    expect(sent.kind === 'dhcp.sent' && JSON.parse(JSON.stringify(sent.options))).toMatchObject({ '53:message-type': 'OFFER' });
  });

  it('bound how far the console falls behind: a flood while its thread is held is answered, the console gets the bound, then a notice', async () => {
    const events: PxedeckEvent[] = [];
    const thread = createRuntimeThread((event) => events.push(event), { backlogLimit: 40 });
    const { argv, dhcpPort } = await loopbackArgs(join(work, 'flood'));
    const runtime = await thread.start(parseCli(argv));
    close = () => runtime.close();
    const before = events.length;
    const discovers = Array.from({ length: 150 }, (_, index) =>
      buildRequest({ type: 'DISCOVER', mac: `52:54:00:7e:20:${index.toString(16).padStart(2, '0')}`, profile: 'bios-pxe', ciaddr: '127.0.0.1' }),
    );
    const packets = join(work, 'flood.hex');
    writeFileSync(packets, discovers.map((packet) => encode(packet).toString('hex')).join('\n'));
    // Sent by another process while spawnSync holds this thread, as a console frame that never ends would.
    const sender = [
      'import { createSocket } from "node:dgram"; import { readFileSync } from "node:fs";',
      'const socket = createSocket("udp4");',
      `for (const hex of readFileSync(${JSON.stringify(packets)}, "utf8").split("\\n")) socket.send(Buffer.from(hex, "hex"), ${dhcpPort}, "127.0.0.1");`,
      'setTimeout(() => socket.close(), 1500);',
    ].join('\n');
    const senderFile = join(work, 'flood-sender.mjs');
    writeFileSync(senderFile, sender);
    expect(spawnSync(process.execPath, [senderFile], { encoding: 'utf8', timeout: 10_000 }).status).toBe(0);

    const notice = await eventually('the left-out notice', () => events.find((event) => event.kind === 'notice' && /left \d+ out/.test(event.message)));
    const shownBefore = events.slice(before, events.indexOf(notice));
    expect(shownBefore.length).toBeLessThanOrEqual(40);
    const leftOut = Number(/left (\d+) out/.exec(notice.kind === 'notice' ? notice.message : '')?.[1]);
    // Every DISCOVER made at least two events (received, sent): the console got some, the rest were left out.
    expect(shownBefore.length + leftOut).toBeGreaterThanOrEqual(300);
    // Nothing was left out of the answers.
    for (const discover of discovers) expect(await client.reply(discover.xid, 3000)).not.toBeNull();
  });

  it('fail a start the operator can fix as a one-line error, and start again after it', async () => {
    const events: PxedeckEvent[] = [];
    const thread = createRuntimeThread((event) => events.push(event));
    const { argv } = await loopbackArgs(join(work, 'refused'));
    const wrong = argv.map((arg) => (arg === 'lo' ? 'pxdnosuch0' : arg));
    const refused = await thread.start(parseCli(wrong)).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(isOperatorError(refused)).toBe(true);
    expect((refused as Error).message).toMatch(/pxdnosuch0/);

    const runtime = await thread.start(parseCli(argv));
    close = () => runtime.close();
    expect(events.some((event) => event.kind === 'server.listening' && event.server.startsWith('dhcp4'))).toBe(true);
    await runtime.close();
    close = undefined;
    await eventually('the DHCP server closed', () => events.find((event) => event.kind === 'server.closed' && event.server.startsWith('dhcp4')));
  });

  it('settle what was asked of a worker that crashed, report the crash, and start a new worker after it', async () => {
    // A stand-in for the worker's script that starts, then throws from a timer as a bug in a server would;
    // on its second life it starts and closes as the real one does.
    const script = join(work, 'crashing-worker.mjs');
    writeFileSync(
      script,
      [
        "import { parentPort } from 'node:worker_threads';",
        "import { existsSync, writeFileSync } from 'node:fs';",
        `const mark = ${JSON.stringify(join(work, 'crashed-once'))};`,
        'parentPort.on("message", (message) => {',
        '  if (message.kind === "close") return parentPort.postMessage({ kind: "closed" });',
        '  parentPort.postMessage({ kind: "started" });',
        '  if (!existsSync(mark)) { writeFileSync(mark, ""); setTimeout(() => { throw new Error("a server threw"); }, 20); }',
        '});',
      ].join('\n'),
    );
    const crashes: Error[] = [];
    const thread = createRuntimeThread(() => undefined, { workerUrl: pathToFileURL(script), onCrash: (error) => crashes.push(error) });
    const first = await thread.start(parseCli(['--interface', 'lo']));
    await eventually('the crash', () => crashes[0]);
    expect(crashes[0]!.message).toBe('a server threw');
    // Nothing is left to close, and the close does not wait for an answer that will never come.
    await first.close();
    const second = await thread.start(parseCli(['--interface', 'lo']));
    await second.close();
    expect(crashes).toHaveLength(1);
  });

  it('fail a start whose worker crashes before answering, as a bug and not as the operator\'s mistake', async () => {
    const script = join(work, 'crash-at-start.mjs');
    writeFileSync(script, 'import { parentPort } from "node:worker_threads";\nparentPort.on("message", () => { throw new Error("broke while starting"); });\n');
    const crashes: Error[] = [];
    const thread = createRuntimeThread(() => undefined, { workerUrl: pathToFileURL(script), onCrash: (error) => crashes.push(error) });
    const refused = await thread.start(parseCli(['--interface', 'lo'])).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect((refused as Error).message).toBe("the servers' thread stopped: broke while starting");
    expect(isOperatorError(refused)).toBe(false);
    expect(crashes.map((error) => error.message)).toEqual(['broke while starting']);
  });

  it('let the process end once the servers are closed', async () => {
    const { argv } = await loopbackArgs(join(work, 'exit'));
    const script = [
      `const { createRuntimeThread } = await import(${JSON.stringify(compiled('runtime-thread.js'))});`,
      `const { parseCli } = await import(${JSON.stringify(pathToFileURL(resolve(import.meta.dirname, '../../dist/src/cli/args.js')).href)});`,
      'let events = 0;',
      'const runtime = await createRuntimeThread(() => (events += 1)).start(parseCli(JSON.parse(process.argv[2])));',
      'await runtime.close();',
      'console.log(`closed after ${events} events`);',
    ].join('\n');
    // A file, not `--input-type=module -e`: a worker inherits node's flags, and that one is refused there.
    const scriptFile = join(work, 'start-and-close.mjs');
    writeFileSync(scriptFile, script);
    const started = Date.now();
    const child = spawnSync(process.execPath, [scriptFile, JSON.stringify(argv)], { encoding: 'utf8', timeout: 20_000 });
    expect(child.stderr).toBe('');
    expect(child.stdout).toMatch(/closed after [1-9]\d* events/);
    expect(child.status).toBe(0);
    // The worker would otherwise hold the process open until killed (spawnSync's timeout).
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
