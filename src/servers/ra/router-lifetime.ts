/**
 * The router lifetime pxedeck's RAs carry: how long hosts may use pxedeck as their default router.
 * RFC 4861 §6.2.1 allows 0 (never a default router) or from MaxRtrAdvInterval up to 9000 s: anything
 * shorter than the longest gap between two of our RAs lets hosts drop the route between them.
 */

/** The periodic RA interval (RFC 4861 §6.2.1 suggests ≤ 10 s only for mobile links; firmware wants them soon). */
export const RA_INTERVAL_MS = 10_000;
/** Each interval varies by ±this fraction (RFC 4861 §6.2.4 asks for jitter). */
export const RA_JITTER = 0.1;
export const MAX_ROUTER_LIFETIME = 9000;

/** The longest gap between two periodic RAs, rounded up to whole seconds: 11 for the default interval. */
export function minRouterLifetime(intervalMs = RA_INTERVAL_MS): number {
  return Math.ceil((intervalMs * (1 + RA_JITTER)) / 1000);
}

/** Why `value` cannot be a router lifetime (the fix, for a flag or settings error), or undefined when it can. */
export function routerLifetimeProblem(value: unknown, intervalMs = RA_INTERVAL_MS): string | undefined {
  const min = minRouterLifetime(intervalMs);
  const fix = `use 0 (hosts never route through pxedeck) or ${min}–${MAX_ROUTER_LIFETIME} seconds (RFC 4861 §6.2.1: at least the ${min} s between two of pxedeck's RAs, at most ${MAX_ROUTER_LIFETIME})`;
  if (typeof value !== 'number' || !Number.isInteger(value)) return fix;
  if (value === 0) return undefined;
  return value >= min && value <= MAX_ROUTER_LIFETIME ? undefined : fix;
}
