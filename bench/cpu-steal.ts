/**
 * How much of a CPU the hypervisor gave to someone else while this VM wanted it: the "steal" column of
 * /proc/stat. On the project's VMs it is the host's share of a run: in one 4000/s run (2026-12-06 11:50 UTC)
 * the server's core lost 30–360 ms of every second to it, and both pxedeck and kea lost DISCOVERs in the seconds
 * it peaked. A server on a core losing a third of its time falls behind whatever it does, so the bench
 * prints it beside the late answers, second by second, for the server's core and perfdhcp's.
 */
import { readFileSync } from 'node:fs';

/** /proc/stat counts in USER_HZ ticks, 100 a second on Linux whatever the kernel's own tick. */
export const TICKS_PER_SECOND = 100;
const MS_PER_TICK = 1000 / TICKS_PER_SECOND;

/** A /proc/stat CPU line's times in ticks, in the kernel's order. */
export interface CpuTimes {
  readonly user: number;
  readonly nice: number;
  readonly system: number;
  readonly idle: number;
  readonly iowait: number;
  readonly irq: number;
  readonly softirq: number;
  readonly steal: number;
}

/** Every CPU line of /proc/stat: `all` for the machine's total, then each CPU by number. */
export function readCpuTimes(): Map<number | 'all', CpuTimes> {
  const times = new Map<number | 'all', CpuTimes>();
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    const fields = /^cpu(\d*) +(.*)$/.exec(line);
    if (!fields) continue;
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields[2]!.trim().split(/\s+/).map(Number);
    times.set(fields[1] ? Number(fields[1]) : 'all', { user, nice, system, idle, iowait, irq, softirq, steal });
  }
  return times;
}

/** Steal ticks of each CPU, by CPU number. */
function stealTicks(): Map<number | 'all', number> {
  return new Map([...readCpuTimes()].map(([cpu, times]) => [cpu, times.steal]));
}

export interface CpuSteal {
  /** Milliseconds stolen in each whole or last partial second since the watch began. */
  readonly perSecondMs: readonly number[];
  readonly totalMs: number;
  /** The share of the watched time, in percent. */
  readonly percent: number;
}

/** Samples `/proc/stat` once a second from now; `stop` gives each CPU's steal, per second, in the order asked. */
export function watchSteal(cpus: readonly number[]): { stop(): CpuSteal[] } {
  const started = Date.now();
  const samples: Array<Map<number | 'all', number>> = [stealTicks()];
  const timer = setInterval(() => samples.push(stealTicks()), 1000);
  return {
    stop() {
      clearInterval(timer);
      samples.push(stealTicks());
      const seconds = Math.max((Date.now() - started) / 1000, 0.001);
      return cpus.map((cpu) => {
        const at = (index: number) => samples[index]!.get(cpu) ?? 0;
        const perSecondMs = samples.slice(1).map((_, index) => (at(index + 1) - at(index)) * MS_PER_TICK);
        const totalMs = (at(samples.length - 1) - at(0)) * MS_PER_TICK;
        return { perSecondMs, totalMs, percent: totalMs / 10 / seconds };
      });
    },
  };
}
