/**
 * What the DHCP warm-up compiles must still be compiled when its servers are gone and the first real machine
 * asks: the event sink, the registry's fold and the serialiser are shared with the real server. Ended by their
 * own close (a `server.closed` event), by their garbage being collected (the hidden classes of the events they
 * made), or by the real sink's first event (its notice, its queue), they were compiled again in the first real
 * burst, on the core that answers it (docs/performance.md). V8 itself is asked, in a node of its own.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const FIXTURE = fileURLToPath(new URL('./fixtures/warm-up-then-notice.ts', import.meta.url));
/** V8's `%GetOptimizationStatus` bits (src/runtime/runtime-test.cc): optimized, by TurboFan. */
const OPTIMIZED = 1 << 4;
const TURBOFANNED = 1 << 6;

describe('the DHCP warm-up at its end', () => {
  it('leaves the sink, the fold and the serialiser compiled after its lanes close and its notice passes the real sink', () => {
    const run = spawnSync(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', FIXTURE], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    const { message, status } = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { message: string; status: Record<string, number> };
    expect(message).toMatch(/^DHCP warm-up: 5000 exchanges/);
    for (const [name, bits] of Object.entries(status)) {
      expect({ name, optimized: (bits & OPTIMIZED) !== 0, turbofanned: (bits & TURBOFANNED) !== 0 }).toEqual({ name, optimized: true, turbofanned: true });
    }
  }, 90_000);
});
