/** bench:dhcp's printed tables: each run, pxedeck against kea, and issue 17's targets. */
import { cpus } from 'node:os';
import type { CpuFreeze } from './cpu-freeze-watch.js';
import type { CpuSteal } from './cpu-steal.js';
import type { WireLatency } from './dhcp-capture.js';
import type { ExchangeStats } from './perfdhcp-output.js';

/** issue 17's DISCOVER→OFFER bound at 4000/s: the per-second count of answers later than this shows where the p99 comes from. */
export const LATE_MS = 5;

export interface RunResult {
  readonly server: string;
  readonly requested: number;
  readonly seconds: number;
  readonly achieved: number;
  readonly discoverOffer: ExchangeStats;
  readonly requestAck: ExchangeStats;
  /** Server CPU time over wall time, in percent of one core. */
  readonly cpuPercent: number;
  /** CPU used by everything but the server (perfdhcp, the kernel, other processes), % of one core. */
  readonly othersPercent: number;
  /** The server's resident memory at its highest during the run (sampled every 100 ms), MiB. */
  readonly peakRssMiB: number;
  /** Datagrams the kernel dropped because a UDP socket's receive buffer was full: the server's side, perfdhcp's side. */
  readonly bufferDrops: { readonly server: number; readonly client: number };
  /** Times each side's CPU stood still (the host stopped it), seen by a sleeper pinned beside the server and perfdhcp. */
  readonly cpuFreezes: { readonly server: readonly CpuFreeze[]; readonly client: readonly CpuFreeze[] };
  /** With pinning: what the hypervisor took from the server's core and perfdhcp's (cpu-steal.ts). */
  readonly steal?: { readonly server: CpuSteal; readonly client: CpuSteal };
  /** When perfdhcp was started, ms since the epoch: where in the run each stall fell. */
  readonly startedAt: number;
  /** With --capture: DISCOVER→OFFER as timed on the server's interface. */
  readonly wire?: WireLatency;
  readonly ok: boolean;
  readonly why: string;
}

const fmt = (value: number, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : '—');

export function printTable(title: string, runs: readonly RunResult[]): void {
  console.log(
    `\n${title} (CPU % = the server, of one core; others % = everything else on this ${cpus().length}-core machine; ` +
      "steal % = the share of the server's/perfdhcp's core the hypervisor gave elsewhere; buffer drops = datagrams the kernel dropped at a full socket receive buffer, the server's/perfdhcp's)",
  );
  const header = ['server', 'asked/s', 'DORA/s', 'lost DO', 'lost RA', 'DO p50/p95/p99 ms', 'RA p50/p95/p99 ms', 'DO p99 after 1 s', 'max ms', 'CPU %', 'others %', 'steal % srv/cli', 'RSS peak MiB', 'buffer drops srv/cli', 'verdict'];
  const rows = runs.map((run) => [
    run.server,
    String(run.requested),
    fmt(run.achieved, 1),
    String(run.discoverOffer.drops),
    String(run.requestAck.drops),
    `${fmt(run.discoverOffer.p50)}/${fmt(run.discoverOffer.p95)}/${fmt(run.discoverOffer.p99)}`,
    `${fmt(run.requestAck.p50)}/${fmt(run.requestAck.p95)}/${fmt(run.requestAck.p99)}`,
    fmt(run.discoverOffer.p99AfterFirstSecond),
    fmt(Math.max(run.discoverOffer.max, run.requestAck.max), 1),
    fmt(run.cpuPercent, 0),
    fmt(run.othersPercent, 0),
    run.steal ? `${fmt(run.steal.server.percent, 0)}/${fmt(run.steal.client.percent, 0)}` : '—',
    fmt(run.peakRssMiB, 0),
    `${run.bufferDrops.server}/${run.bufferDrops.client}`,
    run.why,
  ]);
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ');
  console.log(line(header));
  console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  for (const row of rows) console.log(line(row));
  for (const run of runs) {
    const late = run.discoverOffer.lateBySecond;
    if (late.length > 0) console.log(`  ${run.server} @ ${run.requested}/s: DO answers later than ${LATE_MS} ms, per second: ${late.join(' ')} (first second ${late[0]}, the rest ${late.slice(1).reduce((a, b) => a + b, 0)})`);
    if (run.wire) {
      const wire = run.wire;
      const wireLate = wire.lateBySecond;
      console.log(
        `  ${run.server} @ ${run.requested}/s: on the server's interface, DO p50/p99 ${fmt(wire.p50)}/${fmt(wire.p99)} ms, max ${fmt(wire.max, 1)} ` +
          `(perfdhcp read ${fmt(run.discoverOffer.p50)}/${fmt(run.discoverOffer.p99)}); later than ${LATE_MS} ms per second: ${wireLate.join(' ')}; ` +
          `${wire.offers} of ${wire.discovers} DISCOVERs answered${wire.droppedByKernel > 0 ? `, ${wire.droppedByKernel} packets missed by the capture` : ''}`,
      );
    }
    if (run.steal && run.steal.server.totalMs + run.steal.client.totalMs > 0) {
      console.log(
        `  ${run.server} @ ${run.requested}/s: the hypervisor took, per second, ms of the server's core: ${run.steal.server.perSecondMs.join(' ')}; ` +
          `of perfdhcp's: ${run.steal.client.perSecondMs.join(' ')} (the host's, not the server's doing)`,
      );
    }
    const stalls = (freezes: readonly CpuFreeze[]) => freezes.map((freeze) => `${fmt(freeze.ms, 0)} ms at ${fmt((freeze.at - run.startedAt) / 1000, 1)} s`).join(', ');
    if (run.cpuFreezes.server.length > 0) {
      console.log(
        `  ${run.server} @ ${run.requested}/s: the server's CPU stood still ${run.cpuFreezes.server.length}× (${stalls(run.cpuFreezes.server)}), ` +
          'seen by a sleeper beside it: the host, not the server; each ~100 ms costs ~600 late answers at 4000/s',
      );
    }
    if (run.cpuFreezes.client.length > 0) {
      console.log(`  ${run.server} @ ${run.requested}/s: perfdhcp's CPU stood still ${run.cpuFreezes.client.length}× (${stalls(run.cpuFreezes.client)}): the answers it read late then count as late, though the server had sent them`);
    }
  }
}

/** pxedeck (headless, and as the console if it ran) against kea at each rate both ran: how many times kea's figure pxedeck's is. */
export function printRatios(runs: readonly RunResult[]): void {
  for (const server of ['pxedeck', 'console']) printRatiosOf(server, runs);
}

function printRatiosOf(server: string, runs: readonly RunResult[]): void {
  const rates = [...new Set(runs.map((run) => run.requested))].sort((a, b) => a - b);
  const lines: string[] = [];
  for (const rate of rates) {
    const px = runs.find((run) => run.server === server && run.requested === rate);
    const kea = runs.find((run) => run.server === 'kea' && run.requested === rate);
    if (!px || !kea) continue;
    const lost = (run: RunResult) => run.discoverOffer.drops + run.requestAck.drops;
    lines.push(
      `  ${String(rate).padStart(5)}/s: DORA/s ${fmt(px.achieved / kea.achieved)}×, lost ${lost(px)} vs ${lost(kea)}, ` +
        `DO p99 ${fmt(px.discoverOffer.p99)} vs ${fmt(kea.discoverOffer.p99)} ms (${fmt(px.discoverOffer.p99 / kea.discoverOffer.p99, 1)}×), ` +
        `RA p99 ${fmt(px.requestAck.p99)} vs ${fmt(kea.requestAck.p99)} ms (${fmt(px.requestAck.p99 / kea.requestAck.p99, 1)}×), ` +
        `CPU ${fmt(px.cpuPercent, 0)} vs ${fmt(kea.cpuPercent, 0)} % (${fmt(px.cpuPercent / kea.cpuPercent, 1)}×)`,
    );
  }
  if (lines.length > 0) console.log(`\n${server === 'console' ? "pxedeck's console" : 'pxedeck'} against kea, same run (pxedeck ACKs only after the lease is on disk; kea's memfile does not fsync):\n${lines.join('\n')}`);
}

/** Issue 17's targets: 4000/s with no loss and DISCOVER→OFFER p99 < 5 ms; 1000/s with p99 < 2 ms. */
export function printTargets(runs: readonly RunResult[]): void {
  const targets = [
    { rate: 4000, p99: 5 },
    { rate: 1000, p99: 2 },
  ];
  for (const target of targets) {
    for (const run of runs.filter((candidate) => (candidate.server === 'pxedeck' || candidate.server === 'console') && candidate.requested === target.rate)) {
      const lost = run.discoverOffer.drops + run.requestAck.drops;
      const met = lost === 0 && run.discoverOffer.p99 < target.p99 && run.achieved >= target.rate * 0.97;
      console.log(
        `Target ${target.rate}/s, no loss, DISCOVER→OFFER p99 < ${target.p99} ms${run.server === 'console' ? ', with the console' : ''}: ${met ? 'MET' : 'MISSED'} ` +
          `(${fmt(run.achieved, 1)} DORA/s, ${lost} lost, DO p99 ${fmt(run.discoverOffer.p99)} ms, RA p99 ${fmt(run.requestAck.p99)} ms` +
          `${run.steal ? `; the hypervisor took ${fmt(run.steal.server.percent, 0)} % of the server's core` : ''})`,
      );
    }
  }
}
