import { join } from 'node:path';
import type { Lease } from '../src/servers/dhcp4/lease-pool.js';
import { numberToIpv4 } from '../src/servers/dhcp4/lease-pool.js';
import type { Mac } from '../src/protocol/mac.js';
import { openLeaseFile } from '../src/state/lease-file.js';

/**
 * The lease file's group commit on this disk: how long a batch of N leases takes to be on disk (what an
 * ACK waits for), and what folding 50,000 leases into a new snapshot costs, with the longest time the event
 * loop was held meanwhile (what a DISCOVER→OFFER could wait).
 */
export async function measureLeaseWrites(dir: string): Promise<void> {
  console.log('\nLease file (src/state/lease-journal.ts) on this disk: a batch of N leases until on disk (one write on a journal opened O_DSYNC)');
  const leaseOf = (i: number, round: number): Lease => ({
    mac: `02:00:00:${numberToIpv4(i).split('.').slice(1).map((n) => Number(n).toString(16).padStart(2, '0')).join(':')}` as Mac,
    ip: numberToIpv4(0x0a4d0100 + i),
    state: 'bound',
    expiresAt: Date.now() + 3_600_000 + round,
  });
  for (const count of [1, 10, 100, 1000]) {
    const store = openLeaseFile(join(dir, `batch-${count}`), { compactLines: 1e9 });
    const times: number[] = [];
    for (let round = 0; round < 21; round += 1) {
      const start = performance.now();
      await new Promise<void>((resolve) => {
        let left = count;
        for (let i = 0; i < count; i += 1) store.put(leaseOf(i, round), () => --left === 0 && resolve());
      });
      times.push(performance.now() - start);
    }
    await store.close();
    times.sort((a, b) => a - b);
    console.log(`  ${String(count).padStart(5)} leases: median ${times[10]!.toFixed(2)} ms, max ${times[20]!.toFixed(2)} ms`);
  }
  // 50,000 leases renewed twice over in batches of 500: the journal passes twice the live records and is
  // folded into a new snapshot, while batches keep landing.
  const store = openLeaseFile(join(dir, 'compaction'));
  for (let i = 0; i < 50_000; i += 1) store.put(leaseOf(i, 0));
  await store.settled();
  let longest = 0;
  let last = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 1);
  const start = performance.now();
  for (let round = 1; round <= 2; round += 1) {
    for (let first = 0; first < 50_000; first += 500) {
      for (let i = first; i < first + 500; i += 1) store.put(leaseOf(i, round));
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  await store.settled();
  const took = performance.now() - start;
  clearInterval(ticker);
  await store.close();
  console.log(
    `  50,000 leases renewed twice in batches of 500: ${took.toFixed(0)} ms, ${store.stats.batches} writes, ${store.stats.compactions} snapshot(s); ` +
      `the event loop held at most ${longest.toFixed(1)} ms at a time`,
  );
}
