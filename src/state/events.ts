/**
 * The event types as the registry's readers see them: the console imports them from here, never from
 * the servers that produce them.
 */
export type * from '../servers/events.js';
/** An event as a machine's timeline keeps it: how the console's feed gets the servers' events from their thread. */
export type { StoredEvent } from '../servers/event-json.js';
