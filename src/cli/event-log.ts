/** The two ways events reach a terminal before (and besides) the console: JSON lines, or readable lines. */
import type { PxedeckEvent } from '../servers/events.js';

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
      return `${event.kind.replace('lease.', 'lease ')} ${event.ip}`;
    case 'dhcp.foreign-server':
      return `another DHCP server is on this segment: ${event.server}${event.offered ? ` (offered ${event.offered})` : ''}`;
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
    default:
      return `${event.kind} ${event.file} ${event.bytes}${event.size ? `/${event.size}` : ''} bytes${event.error ? `: ${event.error}` : ''}`;
  }
}

export function formatEventHuman(event: PxedeckEvent): string {
  const who = event.mac ?? '-'.padEnd(17);
  return `${clock(event.time)} ${event.source.padEnd(7)} ${who}  ${describe(event)}`;
}
