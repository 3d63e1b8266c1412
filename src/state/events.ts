/**
 * The event types as the registry's readers see them: the console imports them from here, never from
 * the servers that produce them.
 */
export type * from '../servers/events.js';
