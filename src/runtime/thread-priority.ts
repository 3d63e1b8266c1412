/**
 * The console's thread gives way to the servers' thread when they share a core. Two threads that both want
 * the CPU get it in equal turns of a few milliseconds from Linux: with pxedeck held to one core (a container
 * with one CPU, a busy laptop, the bench's pinning), a DISCOVER that arrived during the console's turn
 * waited for its end, and a burst whose events the console folded at the same pace starved the servers
 * outright (bench:dhcp, the console at 4000/s: 1,778 lost, p50 554 ms; docs/performance.md).
 *
 * Linux keeps a nice value per thread. Raising the console's own thread to +10 weights it ~1:9 against the
 * servers under contention, and a packet's wakeup preempts it; with a core to spare nothing changes. Raising
 * nice needs no privilege. Threads inherit the nice of the thread that creates them, so this is called after
 * the servers' thread and libuv's pool (where file writes such as the lease journal's run) exist.
 */
import { getPriority, setPriority } from 'node:os';

export const CONSOLE_THREAD_NICE = 10;

/**
 * Sets the calling thread's nice to at least `nice` (never lowers it: an operator's `nice` stays); true when
 * it is so. Node's `os.setPriority()` with no pid is setpriority(2) on pid 0, which Linux applies to the
 * calling thread alone (man 2 setpriority: the nice value is a per-thread attribute); elsewhere it would be the
 * whole process, so it is left alone there.
 */
export function lowerThreadPriority(nice = CONSOLE_THREAD_NICE): boolean {
  if (process.platform !== 'linux') return false;
  try {
    if (getPriority() >= nice) return true;
    setPriority(nice);
    return true;
  } catch {
    return false;
  }
}
