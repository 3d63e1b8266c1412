/**
 * The size cap of the upstream cache directory. Least-recently-used files nobody is reading are evicted
 * above it. The setting is in GiB because a person writes it; the cache works in bytes.
 */

export const DEFAULT_CACHE_LIMIT_GIB = 20;
/** Below this a single ISO would evict itself on arrival; above the max is a typo, not a disk. */
export const MIN_CACHE_LIMIT_GIB = 0.25;
export const MAX_CACHE_LIMIT_GIB = 1_048_576;

export function cacheLimitBytes(gib: number = DEFAULT_CACHE_LIMIT_GIB): number {
  return Math.floor(gib * 2 ** 30);
}

/** Why `value` cannot be the cache cap (the fix, for a settings error), or undefined when it can. */
export function cacheLimitProblem(value: unknown): string | undefined {
  const ok = typeof value === 'number' && Number.isFinite(value) && value >= MIN_CACHE_LIMIT_GIB && value <= MAX_CACHE_LIMIT_GIB;
  return ok ? undefined : `use the upstream cache's size cap in GiB, a number from ${MIN_CACHE_LIMIT_GIB} to ${MAX_CACHE_LIMIT_GIB} (default ${DEFAULT_CACHE_LIMIT_GIB}); least-recently-used files are evicted above it`;
}
