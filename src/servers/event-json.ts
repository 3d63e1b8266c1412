/**
 * An event's JSON line: what the event log keeps and headless mode prints. A DHCP packet event's options
 * are written from their bytes (DhcpOptionsView.json) into the place JSON.stringify leaves for them, so
 * the text is the same as `JSON.stringify(event)` without the dictionary being built for it.
 */
import { DhcpOptionsView } from '../protocol/dhcp4/options-view.js';
import type { PxedeckEvent } from './events.js';

/** Stands in for the options while the rest is serialised; a string value cannot contain its quotes unescaped. */
const PLACEHOLDER = '\u0000options';
const PLACEHOLDER_PAIR = `"options":${JSON.stringify(PLACEHOLDER)}`;

export function eventJson(event: PxedeckEvent): string {
  if (!('options' in event) || !(event.options instanceof DhcpOptionsView)) return JSON.stringify(event);
  const json = JSON.stringify({ ...event, options: PLACEHOLDER });
  const at = json.indexOf(PLACEHOLDER_PAIR);
  const valueAt = at + '"options":'.length;
  return `${json.slice(0, valueAt)}${event.options.json()}${json.slice(at + PLACEHOLDER_PAIR.length)}`;
}
