/**
 * Registry snapshots for the console at most `intervalMs` apart (100 ms: ~10 frames a second), however
 * many events arrive: the throttle sits between the registry and useSyncExternalStore.
 */
import { useMemo, useSyncExternalStore } from 'react';
import type { RegistrySnapshot } from '../src/state/registry.js';
import { throttleSnapshots, type SnapshotSource } from './model/throttled-store.js';

export const FRAME_INTERVAL_MS = 100;

export function useRegistrySnapshot(source: SnapshotSource<RegistrySnapshot>, intervalMs = FRAME_INTERVAL_MS): RegistrySnapshot {
  const store = useMemo(() => throttleSnapshots(source, intervalMs), [source, intervalMs]);
  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
}
