/**
 * The other advertisers heard on the segment, and how long each still counts — pure bookkeeping (times
 * come in as arguments), so the service's decisions are testable with a fake clock.
 *
 * A router with lifetime L > 0 counts for L seconds after its last RA (RFC 4861 §6.3.4: what a host
 * trusts it for). A zero-lifetime advertiser (another pxedeck, which never offers a default route) has no
 * lifetime to go by, so it counts for `zeroLifetimeHoldMs` after its last RA. A router that advertised a
 * lifetime and then sends lifetime 0 is leaving (RFC 4861 §6.2.5 final advertisements): it stops counting
 * at once, and its further zero-lifetime RAs are ignored until it offers a lifetime again — otherwise a
 * router announcing its departure would keep us quiet for one more hold.
 */
import type { Mac } from '../../protocol/mac.js';

export interface HeardAdvert {
  readonly address: string;
  readonly mac?: Mac;
  readonly managed: boolean;
  readonly other: boolean;
  /** Seconds, as advertised. */
  readonly routerLifetime: number;
  readonly prefixes: readonly string[];
}

export interface TrackedRouter extends HeardAdvert {
  readonly lastSeen: number;
  /** When it stops counting unless it advertises again. */
  readonly expiresAt: number;
  /** It advertised a lifetime and then withdrew it. */
  readonly withdrawn: boolean;
}

export type HeardOutcome =
  /** First heard, or its flags, prefixes or lifetime-or-not changed: worth reporting. */
  | { readonly kind: 'new' | 'changed'; readonly router: TrackedRouter }
  /** The same advertisement again: its time extended, nothing to report. */
  | { readonly kind: 'refreshed'; readonly router: TrackedRouter }
  /** Lifetime > 0 before, 0 now: it is leaving. */
  | { readonly kind: 'withdrew'; readonly router: TrackedRouter }
  /** A zero-lifetime RA from a router that withdrew: does not count. */
  | { readonly kind: 'ignored'; readonly router: TrackedRouter };

export interface RouterTableOptions {
  readonly zeroLifetimeHoldMs: number;
  /** Routers remembered at most (forged RAs from many sources must not grow memory): the stalest go. */
  readonly limit?: number;
}

function reportKey(router: HeardAdvert): string {
  return JSON.stringify([router.managed, router.other, router.routerLifetime > 0, router.prefixes]);
}

export class RouterTable {
  private readonly routers = new Map<string, TrackedRouter>();
  private readonly limit: number;

  constructor(private readonly options: RouterTableOptions) {
    this.limit = options.limit ?? 32;
  }

  heard(advert: HeardAdvert, now: number): HeardOutcome {
    const previous = this.routers.get(advert.address);
    const leaving = advert.routerLifetime === 0 && previous !== undefined && (previous.withdrawn || previous.routerLifetime > 0);
    const router: TrackedRouter = {
      ...advert,
      lastSeen: now,
      expiresAt: leaving ? now : now + (advert.routerLifetime > 0 ? advert.routerLifetime * 1000 : this.options.zeroLifetimeHoldMs),
      withdrawn: leaving,
    };
    this.routers.delete(advert.address);
    this.routers.set(advert.address, router);
    if (this.routers.size > this.limit) this.routers.delete(this.routers.keys().next().value!);
    if (leaving) return { kind: previous.withdrawn ? 'ignored' : 'withdrew', router };
    if (!previous || previous.withdrawn) return { kind: 'new', router };
    return { kind: reportKey(previous) === reportKey(advert) ? 'refreshed' : 'changed', router };
  }

  /** Routers that count now: heard within their lifetime (or hold), not withdrawn. */
  live(now: number): TrackedRouter[] {
    return [...this.routers.values()].filter((router) => !router.withdrawn && router.expiresAt > now);
  }

  /** Removes and returns the routers whose time ran out (withdrawn ones were reported when they withdrew). */
  expire(now: number): TrackedRouter[] {
    const gone: TrackedRouter[] = [];
    for (const router of this.routers.values()) {
      if (router.withdrawn || router.expiresAt > now) continue;
      this.routers.delete(router.address);
      gone.push(router);
    }
    return gone;
  }

  /** What is reported as seen: everything heard and not withdrawn, expired or not yet. */
  known(): TrackedRouter[] {
    return [...this.routers.values()].filter((router) => !router.withdrawn);
  }
}
