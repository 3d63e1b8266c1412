/**
 * Where every event goes: folded into the registry, appended to the event log (so `pxedeck report MAC` can
 * tell a session afterwards) and printed (JSON lines headless, the console's feed otherwise). A verdict the
 * registry reaches (a loop, a stall) becomes an event of its own.
 */
import { join } from 'node:path';
import type { Emit, PxedeckEvent } from '../servers/events.js';
import { openEventLog } from '../state/event-log.js';
import type { Mac } from '../protocol/mac.js';
import type { Verdict } from '../state/diagnosis.js';
import type { ClientRegistry } from '../state/registry.js';

export interface EventSink {
  readonly emit: Emit;
  notice(level: 'info' | 'warning', message: string): void;
  close(): Promise<void>;
}

/** `onVerdict`: what the runtime does about a verdict besides reporting it (remembering a Secure Boot machine). */
export function openEventSink(dataDir: string, registry: ClientRegistry, print: (event: PxedeckEvent) => void, onVerdict?: (mac: Mac, verdict: Verdict) => void): EventSink {
  const eventLog = openEventLog(dataDir, {
    onError: (error) => notice('warning', `event log ${join(dataDir, 'events')}: ${error.message}; events are not being saved`),
  });
  const emit: Emit = (event) => {
    registry.apply(event);
    eventLog.append(event);
    print(event);
    for (const { mac, verdict } of registry.takeNewVerdicts()) {
      onVerdict?.(mac, verdict);
      emit({ kind: 'client.diagnosis', time: verdict.at, source: 'system', mac, verdict: verdict.kind, severity: verdict.severity, summary: verdict.summary, cause: verdict.cause, fix: verdict.fix });
    }
  };
  const notice = (level: 'info' | 'warning', message: string) => emit({ kind: 'notice', time: Date.now(), source: 'system', level, message });
  return { emit, notice, close: () => eventLog.close() };
}
