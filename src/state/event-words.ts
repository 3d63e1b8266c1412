/**
 * The one human wording of every event, for the console's timeline and the CLI's log lines and reports
 * alike. Here, below both, because the console may not import the CLI. A view chooses how quantities read
 * (a narrow pane wants 1.5M, a log 1572864 bytes) and whether the wire facts a log keeps (transaction ids,
 * peers, cache totals) are added; the words are the same.
 */
import type { ForeignDhcpReplyEvent, Lease6Event, LeaseEvent, PxedeckEvent, SyslogDroppedEvent } from './events.js';
import { terminalText } from './terminal-text.js';

export interface EventWording {
  /** `count` bytes, or `count` of `total` bytes. */
  readonly size: (count: number, total?: number) => string;
  readonly rate: (bytesPerSecond: number) => string;
  readonly duration: (ms: number) => string;
  /** Adds what a log keeps and a narrow pane leaves out: xids, peers, lengths, levels, cache totals. */
  readonly wire: boolean;
}

/** Logs and reports: exact numbers, every wire fact. */
export const LOG_WORDING: EventWording = {
  size: (count, total) => `${count}${total ? `/${total}` : ''} bytes`,
  rate: (bytesPerSecond) => `${bytesPerSecond} B/s`,
  duration: (ms) => `${ms} ms`,
  wire: true,
};

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

const hex = (value: number): string => value.toString(16);

/**
 * What happened, without the time, source and MAC columns (every view shows those its own way). Safe to
 * print: what the network wrote into the event (file names, syslog tags, paths) cannot reach the terminal
 * as control characters (terminal-text.ts).
 */
export function describeEvent(event: PxedeckEvent, words: EventWording = LOG_WORDING): string {
  return terminalText(wordsOf(event, words));
}

function wordsOf(event: PxedeckEvent, words: EventWording): string {
  const { wire } = words;
  switch (event.kind) {
    case 'dhcp.received':
      return `← ${event.messageType} from ${event.client ?? 'client'}${event.ip ? ` (${event.ip})` : ''}${wire ? ` xid ${hex(event.xid)} from ${event.peer}` : ''}`;
    case 'dhcp.sent':
      return `→ ${event.messageType}${event.yiaddr && event.yiaddr !== '0.0.0.0' ? ` ${event.yiaddr}` : ''}${event.bootFile ? ` boot ${event.bootFile}` : ''}${wire ? ` to ${event.peer}: ${event.summary}` : ''}`;
    case 'dhcp.ignored':
      return `ignored${wire ? ` (xid ${hex(event.xid)})` : ''}: ${event.reason}`;
    case 'dhcp6.received':
      return `← ${event.summary}${wire ? ` (txn ${hex(event.transactionId)}, from ${event.peer})` : ''}`;
    case 'dhcp6.sent':
      return `→ ${event.messageType}${event.addresses?.length ? ` ${event.addresses.join(' ')}` : ''}${event.bootFileUrl ? ` boot ${event.bootFileUrl}` : ''}${wire ? ` to ${event.peer}: ${event.summary}` : ''}`;
    case 'dhcp6.ignored':
      return `ignored${wire ? ` (txn ${hex(event.transactionId)})` : ''}: ${event.reason}`;
    case 'packet.malformed':
      return `malformed packet from ${event.peer}${wire ? ` (${event.length} bytes, #${event.count})` : ''}: ${event.error}`;
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
      return `${foreignReplyText(event)}${wire && event.nextServer ? ` next-server ${event.nextServer}` : ''}`;
    case 'server.listening':
      return `${event.server} listening${event.address ? ` on ${event.address}` : ''}`;
    case 'server.error':
      return `${event.server} error: ${event.message ?? 'unknown'}`;
    case 'server.closed':
      return `${event.server} closed`;
    case 'server.not-applicable':
      return `${event.server} not applicable: ${event.message ?? 'nothing to serve here'}`;
    case 'notice':
      return wire ? `${event.level}: ${event.message}` : event.message;
    case 'client.diagnosis':
      return `diagnosis: ${event.summary}${wire ? ` (${event.severity}) — cause: ${event.cause} — fix: ${event.fix}` : ''}`;
    case 'http.request':
      return `${event.method} ${event.path} → ${event.status}${event.bytes !== undefined ? ` ${words.size(event.bytes)}` : ''}${event.reason ? `: ${event.reason}` : ''}`;
    case 'boot.beacon':
      return `beacon: ${event.beacon}${wire ? ` from ${event.ip}` : ''}`;
    case 'upstream.start':
    case 'upstream.progress':
    case 'upstream.done':
    case 'upstream.error':
      return `${event.kind} ${event.url} ${words.size(event.bytes, event.size)}${event.error ? `: ${event.error}` : ''}`;
    case 'upstream.revalidated':
    case 'upstream.replaced':
    case 'upstream.stale':
    case 'upstream.evicted':
      return (
        `${event.kind} ${event.url} ${words.size(event.bytes)}${event.error ? `: ${event.error}` : ''}` +
        (wire && event.totalBytes !== undefined ? ` (cache ${words.size(event.totalBytes, event.limitBytes)})` : '')
      );
    case 'transfer.start':
      return `${event.file} start${event.size !== undefined ? ` (${words.size(event.size)})` : ''}`;
    case 'transfer.progress':
      return `${event.file} ${words.size(event.bytes, event.size)}${event.rate !== undefined ? ` ${words.rate(event.rate)}` : ''}`;
    case 'transfer.done':
      return `${event.file} done ${words.size(event.bytes)}${event.durationMs !== undefined ? ` in ${words.duration(event.durationMs)}` : ''}${event.rate ? ` (${words.rate(event.rate)})` : ''}`;
    case 'transfer.error':
      return `${event.file} ${event.benign ? 'aborted (size probe)' : 'FAILED'} after ${words.size(event.bytes)}: ${event.error ?? ''}`;
    case 'transfer.refused':
      return `${event.file} refused: ${event.error ?? ''}`;
    case 'transfer.not-found':
      return `${event.file} not found`;
    case 'syslog.line':
      return `${event.app ?? '-'}${event.hostname ? `@${event.hostname}` : ''} [${event.severity}]: ${event.message}`;
    case 'syslog.dropped':
      return syslogDroppedText(event);
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
      // Kinds added later, or read back from a log another version wrote, still show, by name.
      return unknownKind(event, wire);
  }
}

function unknownKind(event: never, wire: boolean): string {
  const { kind, time: _time, source: _source, mac: _mac, ...rest } = event as { kind: string; time: number; source: string; mac?: string };
  return wire ? `${kind} ${JSON.stringify(rest)}` : kind;
}
