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
