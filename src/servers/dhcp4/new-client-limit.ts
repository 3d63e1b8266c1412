/**
 * Full DHCP answers machines it has never seen at a bounded rate per interface (a token bucket), so a flood
 * of DISCOVERs from made-up MACs cannot keep the pool's offers, the console and the event log busy. Machines
 * with an offer, a lease or a reservation are never limited. What was turned away is told once per second
 * as a count, not once per packet.
 */
export interface NewClientLimit {
  /** New MACs answered per second, sustained. */
  readonly perSecond: number;
  /** New MACs answered at once after a quiet spell (a rack powered on together). */
  readonly burst: number;
}

/** 50 new machines a second, 200 at once: a rack powering on passes, a made-up-MAC flood does not. */
export const DEFAULT_NEW_CLIENT_LIMIT: NewClientLimit = { perSecond: 50, burst: 200 };

/** The limit a server runs with: the default when none was given, null for none. */
export function effectiveNewClientLimit(limit: NewClientLimit | null | undefined): NewClientLimit | null {
  return limit === undefined ? DEFAULT_NEW_CLIENT_LIMIT : limit;
}

/** What the operator is told for `count` new machines turned away in a second, with the flag that lets them in. */
export function turnedAwayWarning(count: number, limit: NewClientLimit): string {
  return (
    `${count} DISCOVER${count === 1 ? '' : 's'} from machines never seen before went unanswered in the last second: ` +
    `more than ${limit.perSecond} new machines a second (${limit.burst} at once); if a real rack is booting, raise --new-macs-per-second`
  );
}

export class NewClientGate {
  private tokens: number;
  private refilledAt: number;
  private turnedAway = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly limit: NewClientLimit,
    private readonly now: () => number,
    /** Called once a second while new machines are turned away, with how many. */
    private readonly report: (turnedAway: number) => void,
  ) {
    this.tokens = limit.burst;
    this.refilledAt = now();
  }

  /** True when one more new machine may be answered now. */
  admit(): boolean {
    const now = this.now();
    this.tokens = Math.min(this.limit.burst, this.tokens + ((now - this.refilledAt) / 1000) * this.limit.perSecond);
    this.refilledAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    this.turnedAway += 1;
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      const count = this.turnedAway;
      this.turnedAway = 0;
      this.report(count);
    }, 1000).unref();
    return false;
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
