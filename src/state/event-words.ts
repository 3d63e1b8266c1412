/**
 * Event texts that read the same in the console's timeline and in the CLI's log lines and reports. Here,
 * below both, because the console may not import the CLI; each caller adds what only it shows.
 */
import type { ForeignDhcpReplyEvent, Lease6Event, LeaseEvent, SyslogDroppedEvent } from './events.js';

/** `lease granted 10.77.0.50`: v4 and v6 leases alike. */
export function leaseText(event: LeaseEvent | Lease6Event): string {
  return `lease ${event.kind.slice(event.kind.indexOf('.') + 1)} ${event.ip}`;
}

/** `OFFER from 10.0.0.1 (address 10.0.0.77) boot pxelinux.0`: what another server's overheard reply offered. */
export function foreignReplyText(event: ForeignDhcpReplyEvent): string {
  return `${event.messageType} from ${event.server}${event.offered ? ` (address ${event.offered})` : ''}${event.bootFile ? ` boot ${event.bootFile}` : ''}`;
}

const syslogBudgetWords: Record<SyslogDroppedEvent['budget'], string> = {
  source: 'from',
  all: 'from all sources together',
  unknown: 'from addresses of no known machine',
};

/** `dropped 550 log lines from 10.0.0.5 (more than 200 in 1000 ms)`: a syslog rate bound at work. */
export function syslogDroppedText(event: SyslogDroppedEvent): string {
  return `dropped ${event.dropped} log lines ${syslogBudgetWords[event.budget]}${event.ip ? ` ${event.ip}` : ''} (more than ${event.limit} in ${event.windowMs} ms)`;
}
