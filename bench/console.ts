/**
 * bench:console — the live console under load: 500 simulated machines producing 5,000 events a second
 * for 30 s (DHCP, TFTP and HTTP downloads with progress, iPXE, scripts, beacons, new boot cycles), the
 * real Ink app rendering a 120×40 screen into a terminal stand-in. Prints the CPU share of one core
 * (with and without the console, so the console's own share shows), frames per second, render time, and
 * the heap along the run (after a forced GC) to show it stays flat.
 *
 * Run: npm run bench:console  [-- --seconds 30 --clients 500 --rate 5000 --columns 120 --rows 40]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { Mac } from '../src/protocol/mac.js';
import type { PxedeckEvent } from '../src/state/events.js';

// Ink draws nothing until exit when it believes it runs in CI: the bench measures real drawing.
delete process.env.CI;
delete process.env.CONTINUOUS_INTEGRATION;

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '30' },
    clients: { type: 'string', default: '500' },
    rate: { type: 'string', default: '5000' },
    columns: { type: 'string', default: '120' },
    rows: { type: 'string', default: '40' },
    baseline: { type: 'string', default: '10' },
  },
});
const seconds = Number(values.seconds);
const clientCount = Number(values.clients);
const rate = Number(values.rate);
const columns = Number(values.columns);
const rows = Number(values.rows);
const baselineSeconds = Number(values.baseline);

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  process.stderr.write('bench:console needs --expose-gc (npm run bench:console passes it)\n');
  process.exit(2);
}

const macs: Mac[] = Array.from({ length: clientCount }, (_, index) => `52:54:00:${((index >> 16) & 0xff).toString(16).padStart(2, '0')}:${((index >> 8) & 0xff).toString(16).padStart(2, '0')}:${(index & 0xff).toString(16).padStart(2, '0')}` as Mac);

/** An event before it is stamped (Omit distributed over the union). */
type Untimed = PxedeckEvent extends infer E ? (E extends PxedeckEvent ? Omit<E, 'time'> : never) : never;

/** Each machine walks this script over and over; progress steps make most of the traffic, as in life. */
function* bootScript(mac: Mac, index: number): Generator<Untimed> {
  const ip = `10.77.${(index >> 8) & 0xff}.${index & 0xff}`;
  const nbpSize = 1_048_576;
  const kernelSize = 12_000_000;
  const initrdSize = 60_000_000;
  for (let cycle = 0; ; cycle += 1) {
    yield { kind: 'dhcp.received', source: 'dhcp4', mac, messageType: 'DISCOVER', xid: cycle * 2 + 1, peer: '0.0.0.0:68', summary: 'DISCOVER from BIOS PXE', client: 'BIOS PXE', options: { '60:vendor-class': 'PXEClient:Arch:00000:UNDI:002001', '93:client-arch': ['0 (x86 BIOS)'] } };
    yield { kind: 'dhcp.sent', source: 'dhcp4', mac, messageType: 'OFFER', xid: cycle * 2 + 1, peer: '255.255.255.255:68', summary: 'proxy offer', options: { '67:bootfile-name': 'undionly.kpxe' }, bootFile: 'undionly.kpxe' };
    yield { kind: 'transfer.start', source: 'tftp', mac, ip, file: 'undionly.kpxe', bytes: 0, size: nbpSize, options: { blksize: 1432, tsize: nbpSize } };
    for (let step = 1; step < 8; step += 1) yield { kind: 'transfer.progress', source: 'tftp', mac, ip, file: 'undionly.kpxe', bytes: (nbpSize * step) / 8, size: nbpSize, rate: 2_000_000 };
    yield { kind: 'transfer.done', source: 'tftp', mac, ip, file: 'undionly.kpxe', bytes: nbpSize, size: nbpSize, rate: 2_000_000, durationMs: 500 };
    yield { kind: 'dhcp.received', source: 'dhcp4', mac, messageType: 'DISCOVER', xid: cycle * 2 + 2, peer: '0.0.0.0:68', summary: 'DISCOVER from iPXE', client: 'iPXE x86 BIOS', options: { '77:user-class': 'iPXE' } };
    yield { kind: 'dhcp.sent', source: 'dhcp4', mac, messageType: 'OFFER', xid: cycle * 2 + 2, peer: '255.255.255.255:68', summary: 'script', options: {}, bootFile: 'http://10.77.0.1/boot.ipxe' };
    yield { kind: 'http.request', source: 'http', mac, ip, method: 'GET', path: '/ipxe', status: 200, route: 'script', bytes: 420 };
    for (const [file, size] of [['vmlinuz', kernelSize], ['initrd.gz', initrdSize]] as const) {
      yield { kind: 'transfer.start', source: 'http', mac, ip, file, bytes: 0, size };
      for (let step = 1; step < 20; step += 1) yield { kind: 'transfer.progress', source: 'http', mac, ip, file, bytes: (size * step) / 20, size, rate: 40_000_000 };
      yield { kind: 'transfer.done', source: 'http', mac, ip, file, bytes: size, size, rate: 40_000_000, durationMs: 1500 };
    }
    yield { kind: 'boot.beacon', source: 'http', mac, ip, beacon: 'booted' };
  }
}

const scripts = macs.map((mac, index) => bootScript(mac, index));

/** Feeds `perClient` events to every machine at once: timelines reach their bound before the heap is read. */
function prefill(apply: (event: PxedeckEvent) => void, perClient: number): void {
  const time = Date.now() - 60_000;
  for (let round = 0; round < perClient; round += 1) {
    for (const script of scripts) apply({ ...(script.next().value as Untimed), time } as PxedeckEvent);
  }
}

function createLoad(apply: (event: PxedeckEvent) => void) {
  let next = 0;
  let produced = 0;
  let timer: NodeJS.Timeout | undefined;
  const startedAt = performance.now();
  const tick = () => {
    // Catch up to the target rate on every tick, whatever the timer's jitter.
    const due = Math.floor(((performance.now() - startedAt) / 1000) * rate);
    const time = Date.now();
    while (produced < due) {
      const event = scripts[next]!.next().value as Untimed;
      next = (next + 1) % scripts.length;
      apply({ ...event, time } as PxedeckEvent);
      produced += 1;
    }
  };
  timer = setInterval(tick, 5);
  return {
    get produced() {
      return produced;
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
    },
  };
}

function heapMb(): number {
  gc!();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

/** A terminal stand-in: counts what Ink writes, reports a fixed size, is a TTY. */
class TerminalSink extends Writable {
  bytes = 0;
  writes = 0;
  readonly isTTY = true;
  readonly columns = columns;
  readonly rows = rows;
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
    this.bytes += chunk.length;
    this.writes += 1;
    callback();
  }
}

async function measure(label: string, durationSeconds: number, apply: (event: PxedeckEvent) => void, sample?: (second: number) => void) {
  const cpuBefore = process.cpuUsage();
  const wallBefore = performance.now();
  const load = createLoad(apply);
  for (let second = 1; second <= durationSeconds; second += 1) {
    await sleep(1000);
    sample?.(second);
  }
  load.stop();
  const wall = (performance.now() - wallBefore) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const share = (cpu.user + cpu.system) / 1e6 / wall;
  return { label, wall, events: load.produced, eventsPerSecond: load.produced / wall, cpuShare: share };
}

async function main(): Promise<void> {
  // Ink and React exactly as the console loads them (production React, bounded measurement cache).
  const { loadInk } = await import('../components/ink-runtime.js');
  const { ink, trimCaches, isCacheBounded } = await loadInk();
  const { consoleRenderOptions } = await import('../components/run-console.js');
  const { ClientRegistry } = await import('../src/state/registry.js');
  const React = await import('react');
  const { ConsoleRoot } = await import('../components/ConsoleApp.js');
  const { createConsoleFeed } = await import('../components/model/console-feed.js');
  const { createServerControl } = await import('../components/model/server-control.js');
  const { preloadVendors } = await import('../components/model/oui-vendor.js');
  const { openOperator } = await import('../src/state/operator.js');
  const { defaultSettings } = await import('../src/state/settings.js');

  const dataDir = mkdtempSync(join(tmpdir(), 'pxd-bench-console-'));
  writeFileSync(join(dataDir, 'settings.json'), JSON.stringify({ controlPort: 0 }));
  try {
    preloadVendors();
    process.stdout.write(`bench:console — ${clientCount} clients, ${rate} events/s, ${columns}×${rows} screen, node ${process.version}, React ${process.env.NODE_ENV}, Ink measurement cache ${isCacheBounded ? 'bounded' : 'NOT bounded'}\n`);

    // Baseline: the same load folded into a registry, no console. What the servers' side costs anyway.
    let bare: InstanceType<typeof ClientRegistry> | undefined = new ClientRegistry();
    const baseline = await measure('registry only', baselineSeconds, (event) => bare!.apply(event));
    bare = undefined;
    process.stdout.write(`  baseline (registry, no console): ${(baseline.cpuShare * 100).toFixed(1)}% of a core at ${baseline.eventsPerSecond.toFixed(0)} events/s over ${baseline.wall.toFixed(1)} s\n`);

    const feed = createConsoleFeed();
    const defaultTarget = { kind: 'menu', menu: 'default' } as const;
    const operator = openOperator({ dataDir, presetsDir: resolve(import.meta.dirname, '../presets'), serverBase: 'http://10.77.0.1', defaultTarget });
    const config = {
      settings: { ...defaultSettings, interface: 'bench0' },
      flagged: [],
      interfaceName: 'bench0',
      serverAddress: '10.77.0.1',
      serverBase: 'http://10.77.0.1',
      defaultTarget,
      start: async () => ({ close: async () => undefined }),
    };
    const control = createServerControl({ dataDir, configure: () => config, initial: { config, servers: { close: async () => undefined } } });
    // Every timeline at its bound (the registry keeps 200 events a machine), so what grows after is a leak.
    prefill((event) => feed.apply(event), 220);
    // Some machines already assigned, as on a real bench.
    operator.dispatch(macs.slice(0, 100), { kind: 'profile', profile: 'debian-installer' });
    operator.dispatch(macs.slice(100, 120), { kind: 'hold' });

    const sink = new TerminalSink();
    const stdin = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => undefined, ref: () => undefined, unref: () => undefined });
    let frames = 0;
    let renderMs = 0;
    const app = ink.render(React.createElement(ConsoleRoot, { feed, operator, control }), {
      ...consoleRenderOptions,
      patchConsole: false,
      stdout: sink as unknown as NodeJS.WriteStream,
      stdin: stdin as unknown as NodeJS.ReadStream,
      onRender: ({ renderTime }) => {
        frames += 1;
        renderMs += renderTime;
        trimCaches();
      },
    });
    await sleep(500);
    const heap: Array<[number, number]> = [[0, heapMb()]];
    const framesAt: number[] = [];
    let framesBefore = frames;
    const run = await measure('console', seconds, (event) => feed.apply(event), (second) => {
      framesAt.push(frames - framesBefore);
      framesBefore = frames;
      if (second === 5 || second === Math.round(seconds / 2) || second === seconds) heap.push([second, heapMb()]);
      // The operator at work: move the cursor now and then.
      if (second % 3 === 0) stdin.write('j');
    });
    const heapFinal = heapMb();
    app.unmount();
    await app.waitUntilExit();
    operator.close();

    const fps = framesAt.reduce((sum, count) => sum + count, 0) / framesAt.length;
    const consoleShare = run.cpuShare - baseline.cpuShare;
    process.stdout.write(`  with the console:                 ${(run.cpuShare * 100).toFixed(1)}% of a core at ${run.eventsPerSecond.toFixed(0)} events/s over ${run.wall.toFixed(1)} s\n`);
    process.stdout.write(`  console's own share:              ${(consoleShare * 100).toFixed(1)}% of a core (target < 25%)\n`);
    process.stdout.write(`  frames: ${fps.toFixed(1)}/s (min ${Math.min(...framesAt)}, max ${Math.max(...framesAt)} in a second; target ≤ ~10), mean render ${(renderMs / Math.max(1, frames)).toFixed(2)} ms, ${(sink.bytes / 1024 / run.wall).toFixed(0)} KiB/s to the terminal\n`);
    process.stdout.write(`  heap after GC: ${heap.map(([second, mb]) => `${second}s ${mb.toFixed(1)} MB`).join(', ')}, end ${heapFinal.toFixed(1)} MB\n`);
    process.stdout.write(`  clients in the registry: ${feed.registry.getSnapshot().clients.size}\n`);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
process.exit(0);
