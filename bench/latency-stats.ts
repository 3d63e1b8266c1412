/** Latency figures the DHCP bench prints from perfdhcp's timestamps and from its own wire capture alike. */

/** The p-th percentile of ascending `sorted` (NaN when empty). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * How many answers took longer than `lateMs`, for each second of the run, by when their request was sent
 * (second 0 starts at `first`, in seconds like the send times).
 */
export function lateBySecond(samples: Iterable<readonly [sentSeconds: number, delayMs: number]>, first: number, lateMs: number): number[] {
  const counts: number[] = [];
  for (const [sent, delayMs] of samples) {
    const second = Math.max(0, Math.floor(sent - first));
    while (counts.length <= second) counts.push(0);
    if (delayMs > lateMs) counts[second]! += 1;
  }
  return counts;
}
