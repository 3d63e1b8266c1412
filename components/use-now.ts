/** A clock that ticks once a second, so "stalled" and "seen 12s ago" advance while no event arrives. */
import { useEffect, useState } from 'react';

export function useNow(intervalMs = 1000, fixed?: number): number {
  const [now, setNow] = useState(() => fixed ?? Date.now());
  useEffect(() => {
    if (fixed !== undefined) return undefined;
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs, fixed]);
  return fixed ?? now;
}
