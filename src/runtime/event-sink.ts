/**
 * Where every event goes: serialised once and folded into the registry at once (boot decisions read a
 * machine's history from it; its timelines keep the JSON, off the heap), then — after the packets of
 * this turn of the event loop have been answered — appended to the event log (so `pxedeck report MAC` can
 * tell a session afterwards) and printed (JSON lines headless, the console's feed otherwise). Putting the
 * writes behind the replies keeps them off the DISCOVER→OFFER path without losing or reordering an event.
 * A verdict the registry reaches (a loop, a stall) becomes an event of its own.
 */
import { join } from 'node:path';
import type { Emit, PxedeckEvent } from '../servers/events.js';
import { serialiseEvent, type SerialisedEvent } from '../servers/event-json.js';
import { openEventLog } from '../state/event-log.js';
import type { Mac } from '../protocol/mac.js';
import type { Verdict } from '../state/diagnosis.js';
import type { ClientRegistry } from '../state/registry.js';

export interface EventSink {
  readonly emit: Emit;
  notice(level: 'info' | 'warning', message: string): void;
  /** Writes what is queued now (the event log still writes it to disk in its own time). */
  drain(): void;
  close(): Promise<void>;
}

/**
 * `print` gets each event serialised (once, for the event log, headless stdout and the console's thread alike).
 * `onVerdict`: what the runtime does about a verdict besides reporting it (remembering a Secure Boot machine).
 */
export function openEventSink(
  dataDir: string,
  registry: ClientRegistry,
  print: (event: PxedeckEvent, serialised: SerialisedEvent) => void,
  onVerdict?: (mac: Mac, verdict: Verdict) => void,
): EventSink {
  const eventLog = openEventLog(dataDir, {
    onError: (error) => sink.notice('warning', `event log ${join(dataDir, 'events')}: ${error.message}; events are not being saved`),
  });
  const sink = foldingSink(
    registry,
    (event, serialised) => {
      eventLog.appendJson(serialised.line);
      print(event, serialised);
    },
    onVerdict,
  );
  return {
    ...sink,
    close: async () => {
      sink.drain();
      await eventLog.close();
    },
  };
}

/**
 * Each turn's queue is made with its first event in it. An empty list starts out as a list of small integers
 * in V8: the real sink's list, made before the DHCP warm-up and filled only after it, changed its kind at
 * the first event and threw away the fold the warm-up had compiled ("not a Smi").
 */
const NOTHING_QUEUED: readonly never[] = [];

/**
 * The sink without its files: events folded into `registry` at once and handed to `write` after the
 * replies of the turn. The DHCP warm-up folds its events through this same code into a registry of its
 * own, so what V8 learns there is what the real sink runs (dhcp-warm-up.ts).
 */
export function foldingSink(
  registry: ClientRegistry,
  write: (event: PxedeckEvent, serialised: SerialisedEvent) => void,
  onVerdict?: (mac: Mac, verdict: Verdict) => void,
): Omit<EventSink, 'close'> {
  let queued: readonly PxedeckEvent[] = NOTHING_QUEUED;
  let queuedForms: readonly SerialisedEvent[] = NOTHING_QUEUED;
  const drain = () => {
    const events = queued;
    const forms = queuedForms;
    queued = NOTHING_QUEUED;
    queuedForms = NOTHING_QUEUED;
    for (let index = 0; index < events.length; index += 1) write(events[index]!, forms[index]!);
  };
  const emit: Emit = (event) => {
    const serialised = serialiseEvent(event);
    registry.apply(event, serialised);
    if (queued.length === 0) {
      queued = [event];
      queuedForms = [serialised];
      setImmediate(drain);
    } else {
      (queued as PxedeckEvent[]).push(event);
      (queuedForms as SerialisedEvent[]).push(serialised);
    }
    for (const { mac, verdict } of registry.takeNewVerdicts()) {
      onVerdict?.(mac, verdict);
      emit({ kind: 'client.diagnosis', time: verdict.at, source: 'system', mac, verdict: verdict.kind, severity: verdict.severity, summary: verdict.summary, cause: verdict.cause, fix: verdict.fix });
    }
  };
  const notice = (level: 'info' | 'warning', message: string) => emit({ kind: 'notice', time: Date.now(), source: 'system', level, message });
  return { emit, notice, drain };
}
