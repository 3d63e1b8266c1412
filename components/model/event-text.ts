/**
 * One line per event for the timeline, plus the decoded detail (DHCP options, negotiated TFTP options,
 * HTTP status and user agent) on demand. The console may not import the CLI's printer; this one is
 * written for a narrow pane rather than a log file, and shares with it (src/state/event-words.ts) only the
 * texts that read the same in both.
 */
import { foreignReplyText, leaseText, syslogDroppedText } from '../../src/state/event-words.js';
import type { PxedeckEvent } from '../../src/state/events.js';
import { formatBytes, formatDuration, formatRate } from './format.js';

export function eventSummary(event: PxedeckEvent): string {
  switch (event.kind) {
    case 'dhcp.received':
      return `← ${event.messageType} from ${event.client ?? 'client'}${event.ip ? ` (${event.ip})` : ''}`;
    case 'dhcp.sent':
      return `→ ${event.messageType}${event.yiaddr && event.yiaddr !== '0.0.0.0' ? ` ${event.yiaddr}` : ''}${event.bootFile ? ` boot ${event.bootFile}` : ''}`;
    case 'dhcp.ignored':
      return `ignored: ${event.reason}`;
    case 'packet.malformed':
      return `malformed packet from ${event.peer}: ${event.error}`;
    case 'lease.granted':
    case 'lease.released':
    case 'lease.declined':
    case 'lease.expired':
    case 'lease6.granted':
    case 'lease6.released':
    case 'lease6.declined':
      return leaseText(event);
    case 'dhcp.foreign-server':
      return `foreign DHCP server ${event.server}${event.offered ? ` offered ${event.offered}` : ''}`;
    case 'dhcp.foreign-reply':
      return foreignReplyText(event);
    case 'server.listening':
    case 'server.error':
    case 'server.closed':
      return `${event.server} ${event.kind.slice(7)}${event.message ? `: ${event.message}` : ''}`;
    case 'notice':
      return event.message;
    case 'client.diagnosis':
      return `diagnosis: ${event.summary}`;
    case 'http.request':
      return `${event.method} ${event.path} → ${event.status}${event.bytes !== undefined ? ` ${formatBytes(event.bytes)}` : ''}${event.reason ? `: ${event.reason}` : ''}`;
    case 'boot.beacon':
      return `beacon: ${event.beacon}`;
    case 'upstream.start':
    case 'upstream.progress':
    case 'upstream.done':
    case 'upstream.error':
      return `${event.kind} ${event.url}${event.error ? `: ${event.error}` : ''}`;
    case 'upstream.revalidated':
    case 'upstream.replaced':
    case 'upstream.stale':
    case 'upstream.evicted':
      return `${event.kind} ${event.url} ${formatBytes(event.bytes)}${event.error ? `: ${event.error}` : ''}`;
    case 'transfer.start':
      return `${event.file} start${event.size !== undefined ? ` (${formatBytes(event.size)})` : ''}`;
    case 'transfer.progress':
      return `${event.file} ${formatBytes(event.bytes)}${event.size ? `/${formatBytes(event.size)}` : ''}${event.rate !== undefined ? ` ${formatRate(event.rate)}` : ''}`;
    case 'transfer.done':
      return `${event.file} done ${formatBytes(event.bytes)}${event.durationMs !== undefined ? ` in ${formatDuration(event.durationMs)}` : ''}${event.rate ? ` (${formatRate(event.rate)})` : ''}`;
    case 'transfer.error':
      return `${event.file} ${event.benign ? 'aborted (size probe)' : 'FAILED'} after ${formatBytes(event.bytes)}: ${event.error ?? ''}`;
    case 'transfer.refused':
      return `${event.file} refused: ${event.error ?? ''}`;
    case 'transfer.not-found':
      return `${event.file} not found`;
    case 'syslog.dropped':
      return syslogDroppedText(event);
    default:
      // Kinds added to events.ts later still show up, by name.
      return (event as { readonly kind: string }).kind;
  }
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
      return Object.entries(event.options)
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
