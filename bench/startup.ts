/**
 * bench:startup — how fast pxedeck answers: `pxedeck --help` (process start to exit) and the console's first
 * frame with every server listening (tmux start to the header showing DHCP, 4011, TFTP and HTTP up), each
 * as the median of several runs of the compiled CLI. Loopback, unprivileged ports, a temp data dir.
 *
 * Run: npm run bench:startup  [-- --runs 10]
 */
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { openTestClient } from '../test/support/dhcp-client.js';
import { pxedeckCommand } from '../test/support/pxedeck-command.js';
import { TmuxConsole, tmuxUnavailableReason } from '../test/support/tmux-console.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' } } });
const runs = Number(values.runs);
// As the installed command starts it: its `#!` line's variables and node flags, then the script.
const command = pxedeckCommand();

const median = (samples: number[]) => [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;
const format = (samples: number[]) => `median ${median(samples).toFixed(0)} ms (min ${Math.min(...samples).toFixed(0)}, max ${Math.max(...samples).toFixed(0)}; ${samples.length} runs)`;

const help: number[] = [];
for (let i = 0; i < runs; i += 1) {
  const started = performance.now();
  const result = spawnSync(command[0]!, [...command.slice(1), '--help'], { cwd: '/', encoding: 'utf8' });
  help.push(performance.now() - started);
  if (result.status !== 0) throw new Error(`pxedeck --help failed: ${result.stderr}`);
}
const bare: number[] = [];
for (let i = 0; i < runs; i += 1) {
  const started = performance.now();
  spawnSync(process.execPath, ['-e', '0']);
  bare.push(performance.now() - started);
}
console.log(`pxedeck --help:        ${format(help)}`);
console.log(`node -e 0 (reference): ${format(bare)}`);

if (tmuxUnavailableReason) {
  console.log(`console first frame: skipped (${tmuxUnavailableReason})`);
} else {
  const client = await openTestClient();
  const frames: number[] = [];
  try {
    for (let i = 0; i < Math.min(runs, 5); i += 1) {
      const started = performance.now();
      const term = await TmuxConsole.start({ pxedeck: command.join(' '), clientPort: client.port, columns: 80, rows: 24 });
      try {
        await term.waitForServers(30_000);
        frames.push(performance.now() - started);
      } finally {
        term.close();
      }
    }
  } finally {
    client.close();
  }
  console.log(`console, first frame with every server listening (80×24): ${format(frames)}`);
}
