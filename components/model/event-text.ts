/**
 * The timeline's lines: the one wording of every event (src/state/event-words.ts) with sizes, rates and
 * durations compact for a narrow pane, plus the decoded detail (DHCP options, negotiated TFTP options,
 * HTTP route and user agent) on demand.
 */
import { describeEvent, type EventWording } from '../../src/state/event-words.js';
import type { PxedeckEvent } from '../../src/state/events.js';
import { formatBytes, formatDuration, formatRate } from './format.js';
import { optionEntries } from '../../src/protocol/dhcp4/options-view.js';

const CONSOLE_WORDING: EventWording = {
  size: (count, total) => `${formatBytes(count)}${total ? `/${formatBytes(total)}` : ''}`,
  rate: formatRate,
  duration: formatDuration,
  wire: false,
};

export function eventSummary(event: PxedeckEvent): string {
  return describeEvent(event, CONSOLE_WORDING);
}

function compactValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** The decoded fields worth a second line: option values without their numeric prefix. */
export function eventDetail(event: PxedeckEvent): string {
  switch (event.kind) {
    case 'dhcp.received':
    case 'dhcp.sent':
      return optionEntries(event.options)
        .filter(([key]) => !/^(53|55|57):/.test(key))
        .map(([key, value]) => `${key.replace(/^\d+:/, '')}=${compactValue(value)}`)
        .join(' ');
    case 'transfer.start':
      return event.options ? Object.entries(event.options).map(([key, value]) => `${key}=${value}`).join(' ') : '';
    case 'client.diagnosis':
      return `${event.cause}; fix: ${event.fix}`;
    case 'http.request':
      return [event.route, event.userAgent && `agent ${event.userAgent}`, event.durationMs !== undefined && `${event.durationMs} ms`].filter(Boolean).join(', ');
    default:
      return '';
  }
}

export const sourceLabels: Record<PxedeckEvent['source'], string> = {
  dhcp4: 'DHCP',
  pxe4011: '4011',
  dhcp6: 'DHCPv6',
  ra: 'RA',
  tftp: 'TFTP',
  http: 'HTTP',
  syslog: 'syslog',
  system: 'system',
};
