/**
 * What every server reports. Servers receive an `emit` function and never see the registry; the registry
 * (src/state) folds these events into one record per MAC. Events are plain JSON so the headless mode can
 * print them as they are.
 */
import type { DescribedDhcpOptions } from '../protocol/dhcp4/options-view.js';
import type { Mac } from '../protocol/mac.js';
import type { SyslogFacility, SyslogSeverity } from '../protocol/syslog/priority.js';

export type EventSource = 'dhcp4' | 'pxe4011' | 'dhcp6' | 'ra' | 'tftp' | 'http' | 'syslog' | 'system';

interface EventBase {
  /** Milliseconds since the epoch. */
  readonly time: number;
  readonly source: EventSource;
  readonly mac?: Mac;
  /** The client's IPv4/IPv6 address when it has one. */
  readonly ip?: string;
}

/** A DHCP packet we received (decoded) or sent. `options` serialises as a JSON view keyed by option name. */
export interface DhcpPacketEvent extends EventBase {
  readonly kind: 'dhcp.received' | 'dhcp.sent';
  readonly mac: Mac;
  readonly messageType: string;
  readonly xid: number;
  readonly interface?: string;
  readonly peer: string;
  readonly summary: string;
  readonly options: DescribedDhcpOptions;
  /** On dhcp.sent: the address and boot file the reply carries. */
  readonly yiaddr?: string;
  readonly bootFile?: string;
  /** The firmware family the boot core recognised (on dhcp.received). */
  readonly client?: string;
  /** Seconds the client says it has been trying (on dhcp.received). */
  readonly secs?: number;
}

/** A request we chose not to answer, and why: never a silent drop. */
export interface DhcpIgnoredEvent extends EventBase {
  readonly kind: 'dhcp.ignored';
  readonly mac: Mac;
  readonly xid: number;
  readonly reason: string;
  /** The client chose another DHCP server (its REQUEST names this server id). */
  readonly otherServer?: string;
}

/** A packet that could not be decoded: dropped and counted. */
export interface MalformedEvent extends EventBase {
  readonly kind: 'packet.malformed';
  readonly peer: string;
  readonly error: string;
  readonly length: number;
  readonly count: number;
}

export interface LeaseEvent extends EventBase {
  readonly kind: 'lease.granted' | 'lease.released' | 'lease.declined' | 'lease.expired';
  readonly mac: Mac;
  readonly ip: string;
  readonly expiresAt?: number;
}

export interface ForeignDhcpServerEvent extends EventBase {
  readonly kind: 'dhcp.foreign-server';
  readonly server: string;
  readonly offered?: string;
  readonly bootFile?: string;
  readonly mac?: Mac;
}

/**
 * A reply another DHCP server sent to a client, overheard by the passive listener on UDP 68 (only the
 * broadcast ones: a reply unicast to the client's MAC never reaches us). `server` is its option 54, or the
 * packet's source address when it has none; `ip` is set on an ACK only (an OFFER may not be taken).
 */
export interface ForeignDhcpReplyEvent extends EventBase {
  readonly kind: 'dhcp.foreign-reply';
  readonly mac: Mac;
  readonly server: string;
  /** OFFER, ACK, NAK, or BOOTREPLY for a plain BOOTP answer. */
  readonly messageType: string;
  readonly xid: number;
  /** `address:port` the reply came from. */
  readonly peer: string;
  readonly interface?: string;
  /** yiaddr, when not 0.0.0.0. */
  readonly offered?: string;
  /** siaddr (the TFTP "next server"), when not 0.0.0.0. */
  readonly nextServer?: string;
  /** Option 67, or the BOOTP `file` field. */
  readonly bootFile?: string;
  /** Option 66, or the BOOTP `sname` field. */
  readonly tftpServer?: string;
}

/**
 * A server's state. `server.not-applicable`: it does not run because it has nothing to serve here (DHCPv4 and
 * the PXE boot server on an IPv6-only interface), which is not a failure; `message` says why.
 */
export interface ServerStateEvent extends EventBase {
  readonly kind: 'server.listening' | 'server.error' | 'server.closed' | 'server.not-applicable';
  readonly server: string;
  readonly address?: string;
  readonly message?: string;
}

/**
 * A TFTP transfer's life; progress is rate-limited by the server to ~4 a second. `transfer.refused`: a
 * request we would not serve (outside the root, write request, server busy), with the reason in `error`.
 * `transfer.not-found`: no such file; PXELINUX asks for several config names in turn, so this is routine.
 */
export interface TransferEvent extends EventBase {
  readonly kind:
    | 'transfer.start'
    | 'transfer.progress'
    | 'transfer.done'
    | 'transfer.error'
    | 'transfer.refused'
    | 'transfer.not-found';
  readonly file: string;
  /** `address:port` of the client's end: tells concurrent transfers of one client apart. */
  readonly peer?: string;
  readonly bytes: number;
  readonly size?: number;
  readonly rate?: number;
  readonly durationMs?: number;
  readonly options?: Readonly<Record<string, number>>;
  readonly error?: string;
  /** True for aborts that are part of normal firmware behaviour (the tsize probe). */
  readonly benign?: boolean;
  /** HTTP range responses: where in the file this transfer starts (`size` is then the range's length). */
  readonly offset?: number;
}

/** Something the operator should know that is not tied to one client (a missing binary, a forced start). */
export interface NoticeEvent extends EventBase {
  readonly kind: 'notice';
  readonly level: 'info' | 'warning';
  readonly message: string;
}

/** What an HTTP request was for, so the registry folds stages without parsing paths. */
export type HttpRoute =
  | 'boot-script'
  | 'script'
  | 'file'
  | 'named-file'
  | 'upstream'
  /** The whole image or a file inside it (`/iso/...`). */
  | 'iso'
  | 'beacon'
  | 'control'
  | 'unknown';

/**
 * One finished HTTP request (the access log): also refused and malformed ones, with `reason`. `bytes` is
 * the body bytes sent; file downloads additionally report transfer.* events.
 */
export interface HttpRequestEvent extends EventBase {
  readonly kind: 'http.request';
  readonly ip: string;
  readonly method: string;
  /** The request path as sent (query removed), cut to a bounded length. */
  readonly path: string;
  readonly status: number;
  readonly route: HttpRoute;
  readonly userAgent?: string;
  readonly bytes?: number;
  readonly durationMs?: number;
  readonly reason?: string;
}

/** The rendered script reports it is about to `boot` (`booted`), or an installer reports it finished (`done`). */
export interface BootBeaconEvent extends EventBase {
  readonly kind: 'boot.beacon';
  readonly beacon: 'booted' | 'done';
  readonly mac: Mac;
  readonly ip: string;
}

/** A download from an upstream http(s) origin into the local cache (one per URL, however many clients wait on it). */
export interface UpstreamFetchEvent extends EventBase {
  readonly kind: 'upstream.start' | 'upstream.progress' | 'upstream.done' | 'upstream.error';
  readonly url: string;
  readonly bytes: number;
  readonly size?: number;
  readonly rate?: number;
  readonly durationMs?: number;
  readonly error?: string;
}

/**
 * What the upstream cache did with a file it already holds: `revalidated` (the origin answered 304, the
 * copy is fresh again), `replaced` (the origin had a new version, now in place; readers of the old one
 * finished with the old bytes), `stale` (served the old copy because the origin failed: `error` says how),
 * `evicted` (removed, least recently used, to stay under the size cap).
 */
export interface UpstreamCacheEvent extends EventBase {
  readonly kind: 'upstream.revalidated' | 'upstream.replaced' | 'upstream.stale' | 'upstream.evicted';
  readonly url: string;
  /** The size of the file concerned (for `evicted`, the bytes freed). */
  readonly bytes: number;
  /** Until when the copy counts as fresh (ms since the epoch), for `revalidated` and `replaced`. */
  readonly freshUntil?: number;
  readonly error?: string;
  /** For `evicted`: the cap, and the cache's total after this eviction. */
  readonly limitBytes?: number;
  readonly totalBytes?: number;
}

/** A diagnosis the registry made of one machine: what is wrong, why, and the fix. */
export interface DiagnosisEvent extends EventBase {
  readonly kind: 'client.diagnosis';
  readonly mac: Mac;
  readonly verdict: string;
  readonly severity: 'warning' | 'error';
  readonly summary: string;
  readonly cause: string;
  readonly fix: string;
}

/** One line a machine sent to our syslog receiver (iPXE via option 7, an installer's log_host/inst.syslog). */
export interface SyslogLineEvent extends EventBase {
  readonly kind: 'syslog.line';
  readonly ip: string;
  readonly peer: string;
  readonly facility: SyslogFacility;
  readonly severity: SyslogSeverity;
  readonly hostname?: string;
  readonly app?: string;
  readonly message: string;
}

/**
 * Lines beyond a rate bound, summed over one window instead of one event each. `budget` says which bound:
 * one source address (`ip` set), all sources together, or the share of addresses no known machine has.
 */
export interface SyslogDroppedEvent extends EventBase {
  readonly kind: 'syslog.dropped';
  readonly budget: 'source' | 'all' | 'unknown';
  readonly ip?: string;
  readonly dropped: number;
  readonly limit: number;
  readonly windowMs: number;
}

/**
 * A DHCPv6 message received or sent. A DHCPv6 client names itself by DUID, so `mac` is present only when
 * known (a DUID-LL, an EUI-64 link-local source, the neighbour table); `uuid` is normalised across iPXE's
 * and OVMF's byte orders, so the registry can fold both stages into one machine.
 */
export interface Dhcp6PacketEvent extends EventBase {
  readonly kind: 'dhcp6.received' | 'dhcp6.sent';
  readonly messageType: string;
  readonly transactionId: number;
  readonly duid?: string;
  readonly uuid?: string;
  readonly interface?: string;
  readonly peer: string;
  readonly summary: string;
  readonly options: Readonly<Record<string, unknown>>;
  /** On dhcp6.sent: the addresses and boot file URL the reply carries. */
  readonly addresses?: readonly string[];
  readonly bootFileUrl?: string;
  /** The firmware family the boot core recognised (on dhcp6.received). */
  readonly client?: string;
}

export interface Dhcp6IgnoredEvent extends EventBase {
  readonly kind: 'dhcp6.ignored';
  readonly transactionId: number;
  readonly duid?: string;
  readonly reason: string;
  /** The client chose another DHCPv6 server (its message names that server's DUID). */
  readonly otherServer?: string;
}

export interface Lease6Event extends EventBase {
  readonly kind: 'lease6.granted' | 'lease6.released' | 'lease6.declined';
  readonly ip: string;
  readonly duid: string;
  readonly iaid: number;
  readonly expiresAt?: number;
}

/**
 * Router advertisements on the served segment: another router seen (who, with which flags) or gone (its
 * lifetime ran out, or it withdrew with lifetime 0), or pxedeck advertising itself because nobody else
 * does (router lifetime 0 in proxy mode: never a default route; a short one in full DHCP mode, withdrawn
 * with a final RA of lifetime 0 when it stops).
 */
export interface RouterAdvertEvent extends EventBase {
  readonly kind: 'ra.router-seen' | 'ra.router-gone' | 'ra.sent' | 'ra.started' | 'ra.stopped';
  readonly interface: string;
  /** Link-local source of the RA (ours on ra.sent). */
  readonly router?: string;
  readonly managed?: boolean;
  readonly other?: boolean;
  readonly routerLifetime?: number;
  readonly prefixes?: readonly string[];
  readonly reason?: string;
}

export type PxedeckEvent =
  | NoticeEvent
  | DiagnosisEvent
  | DhcpPacketEvent
  | DhcpIgnoredEvent
  | MalformedEvent
  | LeaseEvent
  | ForeignDhcpServerEvent
  | ForeignDhcpReplyEvent
  | ServerStateEvent
  | TransferEvent
  | HttpRequestEvent
  | BootBeaconEvent
  | UpstreamFetchEvent
  | UpstreamCacheEvent
  | SyslogLineEvent
  | SyslogDroppedEvent
  | Dhcp6PacketEvent
  | Dhcp6IgnoredEvent
  | Lease6Event
  | RouterAdvertEvent;

export type Emit = (event: PxedeckEvent) => void;
