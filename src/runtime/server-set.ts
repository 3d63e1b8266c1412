/**
 * The running servers of one start: closed together on stop (or when a start fails half-way), and reopened
 * one at a time when the interface needs fresh sockets. A flapping link must never open two sockets on one
 * port, so every reopening (and every other change of the set) waits for the one before it.
 */
import type { Emit, EventSource } from '../servers/events.js';

export interface Closable {
  close(): Promise<void>;
}

/** One server that can be reopened: `current` is what runs now (undefined while it could not open). */
export interface ServerSlot<T extends Closable> {
  readonly current: T | undefined;
  reopen(): void;
}

export class ServerSet {
  private readonly closers: Array<() => Promise<void>> = [];
  private readonly finalizers: Array<() => void | Promise<void>> = [];
  private queue: Promise<void> = Promise.resolve();
  readonly controller = new AbortController();

  constructor(
    private readonly emit: Emit,
    private readonly interfaceName: string,
  ) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get stopping(): boolean {
    return this.controller.signal.aborted;
  }

  /** Closed with the rest on stop. */
  add<T extends Closable>(server: T): T {
    this.closers.push(() => server.close());
    return server;
  }

  onClose(close: () => Promise<void>): void {
    this.closers.push(close);
  }

  /** Runs once every server is closed (a store's last flush, when nothing can write to it any more). */
  afterClose(finalize: () => void | Promise<void>): void {
    this.finalizers.push(finalize);
  }

  /** A server that reopens on `reopen()`: its failure then is that server's error event, not a crash. */
  slot<T extends Closable>(what: { source: EventSource; server: string }, first: T | undefined, start: () => Promise<T>): ServerSlot<T> {
    let current = first;
    this.closers.push(async () => {
      await current?.close();
    });
    return {
      get current() {
        return current;
      },
      reopen: () =>
        this.serially(async () => {
          try {
            await current?.close();
            const fresh = await start();
            // An opening that ends after pxedeck began closing is closed again at once.
            if (this.stopping) await fresh.close();
            else current = fresh;
          } catch (error) {
            this.emit({ kind: 'server.error', time: Date.now(), source: what.source, server: what.server, message: `reopening on ${this.interfaceName}: ${(error as Error).message}` });
          }
        }),
    };
  }

  /** Runs `task` after every change queued before it; skipped once stopping. */
  serially(task: () => Promise<void>): void {
    this.queue = this.queue.then(async () => {
      if (!this.stopping) await task();
    });
  }

  /** Stops everything: aborts, lets a reopening under way see it, then closes every server. */
  async close(): Promise<void> {
    this.controller.abort();
    await this.queue;
    await Promise.all(this.closers.map((close) => close()));
    for (const finalize of this.finalizers) await finalize();
  }
}
