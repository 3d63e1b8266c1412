/**
 * Keeps the processes that launched a bench off the server's core. `npm run bench:dhcp` leaves npm and tsx's
 * own node process waiting above the bench; they are not pinned with it, and measured (perf, 2026-12-06) npm
 * ran a major collection on the server's core 1.25 s into a 4000/s burst: 20 ms of that core, ~480 answers
 * late, whichever server was being measured. Only launchers are moved: node and `sh -c` processes between
 * the bench and the first process that is neither (the operator's shell, tmux, sudo), which stays as it is.
 */
import { readlinkSync } from 'node:fs';
import { basename } from 'node:path';
import { spawnSync } from 'node:child_process';
import { processStatFields } from './http-load.js';

const LAUNCHER_PROGRAMS = new Set(['node', 'sh', 'dash']);

function parentOf(pid: number): number | undefined {
  const parent = Number(processStatFields(pid)?.[1]);
  return Number.isInteger(parent) && parent > 1 ? parent : undefined;
}

function programOf(pid: number): string | undefined {
  try {
    return basename(readlinkSync(`/proc/${pid}/exe`));
  } catch {
    return undefined;
  }
}

/** The bench's launchers, nearest first: its node and sh ancestors up to the first other program. */
export function launcherPids(pid = process.pid): number[] {
  const launchers: number[] = [];
  for (let parent = parentOf(pid); parent !== undefined; parent = parentOf(parent)) {
    const program = programOf(parent);
    if (!program || !LAUNCHER_PROGRAMS.has(program)) break;
    launchers.push(parent);
  }
  return launchers;
}

/** Pins this process and its launchers (every thread of each) to `cpu`; says which could not be moved. */
export function pinSelfAndLaunchers(cpu: number): string[] {
  const problems: string[] = [];
  for (const pid of [process.pid, ...launcherPids()]) {
    const pinned = spawnSync('taskset', ['-a', '-c', '-p', String(cpu), String(pid)], { encoding: 'utf8' });
    if (pinned.status !== 0) problems.push(`taskset ${pid}: ${pinned.stderr.trim() || `exit ${pinned.status}`}`);
  }
  return problems;
}
