/**
 * `npm run bench:console-idle`: the console's own memory and CPU while nothing boots — the compiled CLI
 * with its `#!` line's node flags, in a real terminal (tmux, 80×24), serving on loopback with unprivileged
 * ports. `--machines N` first has N machines ask for an address (a DISCOVER each, from loopback), so the
 * table and the detail pane have rows whose ages and diagnoses move with the clock.
 *
 *   npm run bench:console-idle -- [--seconds 120] [--machines 0] [--columns 80] [--rows 24] [--node-args="--max-semi-space-size=16"]
 *                                 [--bin /path/to/bin/pxedeck.js]  (another build or an installed command, run with its own `#!` flags)
 *
 * RSS (and its anonymous part) is read from /proc every second and printed every 10 s; then the figure at
 * 30 s, the range from 30 s to the end (a flat console has a narrow one; a console redrawing every second
 * rose ~0.4 MiB/s between collections), and the CPU the process used over the run.
 *
 * Bounded: the run lasts --seconds; the tmux server and its files are removed at the end.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { buildRequest, openTestClient } from '../test/support/dhcp-client.js';
import { pxedeckBin, pxedeckCommand } from '../test/support/pxedeck-command.js';
import { TmuxConsole, tmuxUnavailableReason } from '../test/support/tmux-console.js';
import type { Mac } from '../src/protocol/mac.js';
import { cpuSeconds, memoryOf } from './http-load.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '120' },
    machines: { type: 'string', default: '0' },
    columns: { type: 'string', default: '80' },
    rows: { type: 'string', default: '24' },
    'node-args': { type: 'string', default: '' },
    bin: { type: 'string', default: pxedeckBin },
  },
});
const seconds = Number(values.seconds);
const machines = Number(values.machines);
if (!(seconds >= 30) || !(machines >= 0 && machines <= 250)) {
  process.stderr.write('bench:console-idle: --seconds must be 30 or more, --machines 0 to 250\n');
  process.exit(2);
}
if (tmuxUnavailableReason) {
  process.stderr.write(`bench:console-idle: ${tmuxUnavailableReason}\n`);
  process.exit(2);
}

interface Sample {
  readonly second: number;
  readonly rssMiB: number;
  readonly anonMiB: number;
}

function sample(pid: number, second: number): Sample {
  const memory = memoryOf([pid]);
  return { second, rssMiB: memory.rssKiB / 1024, anonMiB: memory.anonKiB / 1024 };
}

const client = await openTestClient();
const extraNodeArgs = values['node-args'].split(' ').filter(Boolean);
const term = await TmuxConsole.start({
  pxedeck: pxedeckCommand(extraNodeArgs, values.bin).join(' '),
  clientPort: client.port,
  columns: Number(values.columns),
  rows: Number(values.rows),
});
try {
  await term.waitForServers(30_000);
  const command = term.consoleCommandLine();
  const node = term.consolePid();
  process.stdout.write(`console: ${command.join(' ')} (pid ${node}), ${values.columns}×${values.rows}, ${machines} machines\n`);
  for (let index = 0; index < machines; index += 1) {
    const mac = `52:54:00:be:${(index >> 8).toString(16).padStart(2, '0')}:${(index & 0xff).toString(16).padStart(2, '0')}` as Mac;
    // Loopback has no neighbour table: ciaddr tells pxedeck which MAC 127.0.0.1 is.
    await client.send(buildRequest({ type: 'DISCOVER', mac, profile: 'bios-pxe', ciaddr: '127.0.0.1' }), term.ports.dhcp);
  }
  const started = Date.now();
  const cpuAtStart = cpuSeconds([node]);
  const samples: Sample[] = [];
  for (let second = 0; second <= seconds; second += 1) {
    const reading = sample(node, second);
    samples.push(reading);
    if (second % 10 === 0) process.stdout.write(`${String(second).padStart(4)} s  RSS ${reading.rssMiB.toFixed(1)} MiB  (anon ${reading.anonMiB.toFixed(1)})\n`);
    await sleep(Math.max(0, started + (second + 1) * 1000 - Date.now()));
  }
  const cpu = cpuSeconds([node]) - cpuAtStart;
  const settled = samples.filter((reading) => reading.second >= 30).map((reading) => reading.rssMiB);
  const at30 = samples.find((reading) => reading.second === 30)!;
  process.stdout.write(
    `\nRSS at 30 s ${at30.rssMiB.toFixed(1)} MiB; from 30 s to ${seconds} s ${Math.min(...settled).toFixed(1)}–${Math.max(...settled).toFixed(1)} MiB, ` +
      `at the end ${settled.at(-1)!.toFixed(1)}\nCPU ${cpu.toFixed(2)} s in ${seconds} s (${((cpu / seconds) * 100).toFixed(2)} % of a core)\n`,
  );
  const screen = term.screen();
  if (/pxedeck exited/.test(screen)) throw new Error(`the console exited during the run:\n${screen}`);
} finally {
  term.close();
  client.close();
}
