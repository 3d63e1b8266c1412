/**
 * What the console reads: a client registry of its own plus the last system notices (warnings, server
 * errors, foreign DHCP servers) the registry does not keep. The composition root hands `apply` every event
 * from the servers' thread (src/runtime/runtime-thread.ts); because the feed outlives the servers, clients
 * keep their records when settings are applied and the servers restart.
 */
import type { Mac } from '../../src/protocol/mac.js';
import type { PxedeckEvent, StoredEvent } from '../../src/state/events.js';
import { syslogDroppedText } from '../../src/state/event-words.js';
import { ClientRegistry } from '../../src/state/registry.js';

export interface SystemNote {
  readonly time: number;
  readonly level: 'info' | 'warning' | 'error';
  readonly text: string;
  readonly mac?: Mac;
}

export interface ConsoleFeed {
  readonly registry: ClientRegistry;
  /**
   * Folds an event into the feed's registry and keeps its note (the runtime's thread has a registry of its own).
   * `stored`: the event as a timeline keeps it, when it came serialised (from the servers' thread).
   */
  apply(event: PxedeckEvent, stored?: StoredEvent): void;
  /** Newest last; a new array after each change. */
  notes(): readonly SystemNote[];
  /** A note from the console itself (an operator action, a restart), shown in the log like the others. */
  note(level: SystemNote['level'], text: string): void;
}

export const NOTE_LIMIT = 200;

function noteFor(event: PxedeckEvent): SystemNote | undefined {
  switch (event.kind) {
    case 'notice':
      return { time: event.time, level: event.level, text: event.message };
    case 'server.error':
      return { time: event.time, level: 'error', text: `${event.server}: ${event.message ?? 'error'}` };
    case 'server.listening':
      return { time: event.time, level: 'info', text: `${event.server} listening on ${event.address ?? '?'}` };
    case 'server.closed':
      return { time: event.time, level: 'info', text: `${event.server} closed` };
    case 'server.not-applicable':
      return { time: event.time, level: 'info', text: `${event.server} not applicable: ${event.message ?? 'nothing to serve here'}` };
    case 'dhcp.foreign-server':
      return { time: event.time, level: 'warning', text: `another DHCP server answers on this segment: ${event.server}${event.offered ? ` (offered ${event.offered})` : ''}` };
    case 'upstream.error':
      return { time: event.time, level: 'error', text: `upstream ${event.url}: ${event.error ?? 'failed'}` };
    case 'upstream.stale':
      return { time: event.time, level: 'warning', text: `upstream ${event.url}: served the cached copy, origin failed: ${event.error ?? 'unknown error'}` };
    case 'syslog.dropped':
      // One machine's chatter shows on its own timeline; a bound over all sources is a flood worth a warning.
      return event.budget === 'source' ? undefined : { time: event.time, level: 'warning', text: `syslog: ${syslogDroppedText(event)}` };
    case 'upstream.replaced':
    case 'upstream.evicted':
      return { time: event.time, level: 'info', text: `upstream ${event.url}: ${event.kind === 'upstream.replaced' ? 'new version cached' : 'evicted from the cache'}` };
    default:
      return undefined;
  }
}

export function createConsoleFeed(registry = new ClientRegistry()): ConsoleFeed {
  let notes: readonly SystemNote[] = [];
  const push = (note: SystemNote) => {
    notes = notes.length >= NOTE_LIMIT ? [...notes.slice(notes.length - NOTE_LIMIT + 1), note] : [...notes, note];
  };
  return {
    registry,
    apply(event, stored) {
      const note = noteFor(event);
      if (note) push(note);
      registry.apply(event, stored);
      // The runtime's own registry reports verdicts as client.diagnosis events, which arrive here too:
      // this registry's copies are dropped so its queue stays empty.
      registry.takeNewVerdicts();
    },
    notes: () => notes,
    note(level, text) {
      push({ time: Date.now(), level, text });
      // Bump subscribers through the registry's own channel so the note is drawn with the next frame.
      registry.apply({ kind: 'notice', time: Date.now(), source: 'system', level: level === 'error' ? 'warning' : level, message: text });
    },
  };
}
