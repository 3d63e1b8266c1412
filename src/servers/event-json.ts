/**
 * An event's JSON line: what the event log keeps and headless mode prints. A DHCP packet event's options
 * are written from their bytes (DhcpOptionsView.json) into the place JSON.stringify leaves for them, so
 * the text is the same as `JSON.stringify(event)` without the dictionary being built for it. The line
 * with that place still held, and the options' bytes, are how a machine's timeline keeps the event.
 */
import { DhcpOptionsView } from '../protocol/dhcp4/options-view.js';
import type { PxedeckEvent } from './events.js';

/** Stands in for the options while the rest is serialised; a string value cannot contain its quotes unescaped. */
const PLACEHOLDER = '\u0000options';
const PLACEHOLDER_PAIR = `"options":${JSON.stringify(PLACEHOLDER)}`;

export function eventJson(event: PxedeckEvent): string {
  return serialiseEvent(event).line;
}

/**
 * An event's JSON line, and the form a machine's timeline keeps (src/state/timeline.ts): for a DHCP packet
 * event, the line with the options' place held and the options as their bytes — about half the size of the
 * described options, and read back as the same view the live event carried.
 */
export interface SerialisedEvent extends StoredEvent {
  readonly line: string;
}

/** How a timeline keeps an event, and how it crosses to another thread (runtime/event-batch.ts). */
export interface StoredEvent {
  /** The line, or with `optionBytes` the line with a stand-in for the options. */
  readonly head: string;
  readonly optionBytes: Buffer | undefined;
}

export function serialiseEvent(event: PxedeckEvent): SerialisedEvent {
  if (!('options' in event) || !(event.options instanceof DhcpOptionsView)) {
    const line = JSON.stringify(event);
    return { line, head: line, optionBytes: undefined };
  }
  const head = JSON.stringify({ ...event, options: PLACEHOLDER });
  const at = head.indexOf(PLACEHOLDER_PAIR);
  const valueAt = at + '"options":'.length;
  const line = `${head.slice(0, valueAt)}${event.options.json()}${head.slice(at + PLACEHOLDER_PAIR.length)}`;
  return { line, head, optionBytes: event.options.entryBytes };
}

/** The event a `head` and `optionBytes` of `serialiseEvent` stand for. */
export function eventOfSerialised(head: string, optionBytes: Buffer | undefined): PxedeckEvent {
  const event = JSON.parse(head) as { options?: unknown };
  if (optionBytes && event.options === PLACEHOLDER) event.options = DhcpOptionsView.ofEntries(optionBytes);
  return event as PxedeckEvent;
}
