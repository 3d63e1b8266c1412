/** The two ways events reach a terminal before (and besides) the console: JSON lines, or readable lines. */
import type { PxedeckEvent } from '../servers/events.js';
import { foreignReplyText, leaseText, syslogDroppedText } from '../state/event-words.js';

export function formatEventJson(event: PxedeckEvent): string {
  return JSON.stringify(event);
}

function clock(time: number): string {
  return new Date(time).toISOString().slice(11, 23);
}

function describe(event: PxedeckEvent): string {
  switch (event.kind) {
    case 'dhcp.received':
      return `← ${event.summary} (xid ${event.xid.toString(16)}, from ${event.peer})`;
    case 'dhcp.sent':
      return `→ ${event.messageType}${event.yiaddr ? ` ${event.yiaddr}` : ''}${event.bootFile ? ` boot ${event.bootFile}` : ''} to ${event.peer}: ${event.summary}`;
    case 'dhcp.ignored':
      return `ignored (xid ${event.xid.toString(16)}): ${event.reason}`;
    case 'packet.malformed':
      return `dropped a malformed packet from ${event.peer} (${event.length} bytes, #${event.count}): ${event.error}`;
    case 'lease.granted':
    case 'lease.released':
    case 'lease.declined':
    case 'lease.expired':
    case 'lease6.granted':
    case 'lease6.released':
    case 'lease6.declined':
      return leaseText(event);
    case 'dhcp.foreign-server':
      return `another DHCP server is on this segment: ${event.server}${event.offered ? ` (offered ${event.offered})` : ''}`;
    case 'dhcp.foreign-reply':
      return `${foreignReplyText(event)}${event.nextServer ? ` next-server ${event.nextServer}` : ''}`;
    case 'server.listening':
      return `${event.server} listening on ${event.address ?? '?'}`;
    case 'server.error':
      return `${event.server} error: ${event.message ?? 'unknown'}`;
    case 'server.closed':
      return `${event.server} closed`;
    case 'notice':
      return `${event.level}: ${event.message}`;
    case 'client.diagnosis':
      return `${event.severity.toUpperCase()} ${event.summary} — cause: ${event.cause} — fix: ${event.fix}`;
    case 'http.request':
      return `${event.method} ${event.path} ${event.status}${event.bytes !== undefined ? ` ${event.bytes} bytes` : ''}${event.reason ? `: ${event.reason}` : ''}`;
    case 'boot.beacon':
      return `beacon ${event.beacon} from ${event.ip}`;
    case 'upstream.start':
    case 'upstream.progress':
    case 'upstream.done':
    case 'upstream.error':
      return `${event.kind} ${event.url} ${event.bytes}${event.size ? `/${event.size}` : ''} bytes${event.error ? `: ${event.error}` : ''}`;
    case 'upstream.revalidated':
    case 'upstream.replaced':
    case 'upstream.stale':
    case 'upstream.evicted':
      return `${event.kind} ${event.url} ${event.bytes} bytes${event.error ? `: ${event.error}` : ''}${event.totalBytes !== undefined ? ` (cache ${event.totalBytes}/${event.limitBytes ?? '?'} bytes)` : ''}`;
    case 'syslog.line':
      return `${event.app ?? '-'}${event.hostname ? `@${event.hostname}` : ''} [${event.severity}]: ${event.message}`;
    case 'syslog.dropped':
      return syslogDroppedText(event);
    case 'transfer.start':
    case 'transfer.progress':
    case 'transfer.done':
    case 'transfer.error':
    case 'transfer.refused':
    case 'transfer.not-found':
      return `${event.kind} ${event.file} ${event.bytes}${event.size ? `/${event.size}` : ''} bytes${event.error ? `: ${event.error}` : ''}`;
    case 'dhcp6.received':
      return `← ${event.summary} (txn ${event.transactionId.toString(16)}, from ${event.peer})`;
    case 'dhcp6.sent':
      return `→ ${event.messageType}${event.addresses?.length ? ` ${event.addresses.join(' ')}` : ''}${event.bootFileUrl ? ` boot ${event.bootFileUrl}` : ''} to ${event.peer}: ${event.summary}`;
    case 'dhcp6.ignored':
      return `ignored (txn ${event.transactionId.toString(16)}): ${event.reason}`;
    case 'ra.router-seen':
      return `router ${event.router ?? '?'} advertises on ${event.interface} (M=${event.managed ? 1 : 0} O=${event.other ? 1 : 0}, lifetime ${event.routerLifetime ?? '?'} s)`;
    case 'ra.router-gone':
      return `router ${event.router ?? '?'} no longer advertises on ${event.interface}${event.reason ? `: ${event.reason}` : ''}`;
    case 'ra.sent':
      return `router advertisement sent on ${event.interface}${event.prefixes?.length ? ` (prefix ${event.prefixes.join(', ')})` : ''}`;
    case 'ra.started':
    case 'ra.stopped':
      return `${event.kind === 'ra.started' ? 'advertising as' : 'stopped advertising as'} a router on ${event.interface}${event.reason ? `: ${event.reason}` : ''}`;
    default:
      // Events read back from a log written by another version can carry kinds this one does not know.
      return unknownKind(event);
  }
}

function unknownKind(event: never): string {
  const { kind, time: _time, source: _source, mac: _mac, ...rest } = event as { kind: string; time: number; source: string; mac?: string };
  return `${kind} ${JSON.stringify(rest)}`;
}

/** What happened, without the time, source and MAC columns (for views that show those themselves). */
export function describeEvent(event: PxedeckEvent): string {
  return describe(event);
}

export function formatEventHuman(event: PxedeckEvent): string {
  const who = event.mac ?? '-'.padEnd(17);
  return `${clock(event.time)} ${event.source.padEnd(7)} ${who}  ${describe(event)}`;
}
