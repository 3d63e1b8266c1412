/**
 * Registry snapshots for the console at most `intervalMs` apart (100 ms: ~10 frames a second), however
 * many events arrive: the throttle sits between the registry and useSyncExternalStore. Drawing may use
 * FRAME_BUDGET of a core; when frames get expensive (hundreds of machines all changing), they come less
 * often rather than eat the CPU the servers need, and in a storm of events far less often (STORM).
 */
import { useLayoutEffect, useMemo, useSyncExternalStore } from 'react';
import type { RegistrySnapshot } from '../src/state/registry.js';
import { throttleSnapshots, type SnapshotSource } from './model/throttled-store.js';

export const FRAME_INTERVAL_MS = 100;
export const FRAME_BUDGET = 0.15;
/**
 * In a storm (more than 500 events a second: hundreds of machines at once; ten booting make under 100),
 * frames take 1% of a core, about one a second, instead of 15%: an 80×24 frame holds the thread for
 * 8–18 ms, and at 1000 DORA/s every DISCOVER that arrives meanwhile waits for it (docs/performance.md,
 * "DHCP with the console").
 */
export const STORM = { changesPerSecond: 500, budget: 0.01, maxIntervalMs: 2000 } as const;

/**
 * Call at the top of the root component's render: the frame's cost is measured from there to the
 * layout effect, which runs after React rendered and Ink laid out and wrote the frame.
 */
export function useRegistrySnapshot(source: SnapshotSource<RegistrySnapshot>, intervalMs = FRAME_INTERVAL_MS): RegistrySnapshot {
  const started = performance.now();
  const store = useMemo(() => throttleSnapshots(source, intervalMs, { budget: FRAME_BUDGET, busy: STORM }), [source, intervalMs]);
  const snapshot = useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
  useLayoutEffect(() => store.reportFrameCost(performance.now() - started));
  return snapshot;
}
