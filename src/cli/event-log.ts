/** The two ways events reach a terminal before (and besides) the console: JSON lines, or readable lines. */
import type { PxedeckEvent } from '../servers/events.js';
import { describeEvent } from '../state/event-words.js';
import { terminalJson } from '../state/terminal-text.js';

/** One JSON object a line; the headless stream often ends on a terminal (terminal-text.ts). */
export function formatEventJson(event: PxedeckEvent): string {
  return terminalJson(event);
}

function clock(time: number): string {
  return new Date(time).toISOString().slice(11, 23);
}

export function formatEventHuman(event: PxedeckEvent): string {
  const who = event.mac ?? '-'.padEnd(17);
  return `${clock(event.time)} ${event.source.padEnd(7)} ${who}  ${describeEvent(event)}`;
}
