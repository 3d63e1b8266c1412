/**
 * How long an origin's answer may be served without asking it again (RFC 9111 §4.2.1), from the headers
 * of a 200 or a 304. pxedeck is a shared cache, so s-maxage wins over max-age. `no-cache` and `no-store`
 * mean "ask every time": the copy is still kept, because booting while the origin is gone is the point
 * of the cache, but it is revalidated on every use.
 */

export const DEFAULT_FRESH_MS = 60 * 60 * 1000;

function directives(cacheControl: string | null): Map<string, string | undefined> {
  const found = new Map<string, string | undefined>();
  for (const part of (cacheControl ?? '').split(',')) {
    const [name, value] = part.split('=', 2).map((text) => text.trim());
    if (name) found.set(name.toLowerCase(), value?.replace(/^"|"$/g, ''));
  }
  return found;
}

function seconds(value: string | undefined): number | undefined {
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}

/** The moment (ms since the epoch) the answer stops being fresh. */
export function freshUntil(headers: Headers, now: number, defaultFreshMs = DEFAULT_FRESH_MS): number {
  const control = directives(headers.get('cache-control'));
  if (control.has('no-cache') || control.has('no-store')) return now;
  const age = (seconds(headers.get('age') ?? undefined) ?? 0) * 1000;
  const maxAge = seconds(control.get('s-maxage')) ?? seconds(control.get('max-age'));
  if (maxAge !== undefined) return now + maxAge * 1000 - age;
  const expires = headers.get('expires');
  if (expires !== null) {
    // An HTTP-date names its month; Date.parse would read "0" as the year 2000.
    const at = /[a-z]{3}/i.test(expires) ? Date.parse(expires) : Number.NaN;
    // An Expires that does not parse ("0", "-1") means already expired (RFC 9111 §5.3).
    if (Number.isNaN(at)) return now;
    // Against the origin's own clock, so a skewed origin clock does not skew our freshness.
    const originNow = Date.parse(headers.get('date') ?? '');
    return now + at - (Number.isNaN(originNow) ? now : originNow);
  }
  return now + defaultFreshMs;
}
