/** When a transfer sends again what the client has not acknowledged, and when it gives up. */

export interface RetransmitPolicy {
  /** First retransmission after this long without an answer. */
  readonly initialMs: number;
  /** Backoff doubles the wait up to this. */
  readonly maxMs: number;
  /** Retransmissions of the same packet before the transfer is abandoned. */
  readonly retries: number;
}

/**
 * 1 s, 2 s, 4 s, 8 s, 8 s, 8 s, then give up (31 s of silence). The wait must grow past the clients' own
 * timeouts (atftp 5 s, EDK2 ~4 s): atftp answers a repeated window with one ACK only, and if that ACK is
 * lost too it waits for its own timer, which our retransmissions keep resetting while they come faster.
 */
export const DEFAULT_RETRANSMIT: RetransmitPolicy = { initialMs: 1000, maxMs: 8000, retries: 6 };

/**
 * A transfer's retransmission clock. The timer is armed once per wait and the client's answers only move
 * `quietSince`; when the timer fires early it re-arms for the rest. Refreshing a Node timer on every ACK
 * cost more than the ACK's own handling at windowsize 1. Each retransmission doubles the wait up to
 * `maxMs`; an answer brings it back to `initialMs`.
 */
export class RetransmitClock {
  /** When the timer was armed or the client last answered (performance.now()). */
  quietSince = 0;
  /** Retransmissions since the client last answered. */
  retries = 0;
  private waitMs: number;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  /** `onQuiet(false)`: send again; `onQuiet(true)`: the retries are spent, give up. */
  constructor(
    private readonly policy: RetransmitPolicy,
    private readonly onQuiet: (givenUp: boolean) => void,
  ) {
    this.waitMs = policy.initialMs;
  }

  start(): void {
    this.arm(this.waitMs);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Milliseconds until a retransmission is due (≤ 0: it is, and the event loop must run the timer). */
  dueInMs(now: number): number {
    return this.quietSince + this.waitMs - now;
  }

  /** The client answered: back to the first retransmission delay. */
  answered(): void {
    if (this.retries > 0 || this.waitMs !== this.policy.initialMs) {
      this.retries = 0;
      this.waitMs = this.policy.initialMs;
      clearTimeout(this.timer);
      this.arm(this.waitMs);
    } else {
      this.quietSince = performance.now();
    }
  }

  private arm(delayMs: number): void {
    this.quietSince = performance.now();
    this.timer = setTimeout(this.onTimeout, delayMs);
  }

  private readonly onTimeout = (): void => {
    if (this.stopped) return;
    const quietMs = performance.now() - this.quietSince;
    if (quietMs < this.waitMs - 1) {
      this.timer = setTimeout(this.onTimeout, this.waitMs - quietMs);
      return;
    }
    if (this.retries >= this.policy.retries) {
      this.onQuiet(true);
      return;
    }
    this.retries += 1;
    this.waitMs = Math.min(this.waitMs * 2, this.policy.maxMs);
    this.arm(this.waitMs);
    this.onQuiet(false);
  };
}
