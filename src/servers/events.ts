/**
 * What every server reports. Servers receive an `emit` function and never see the registry; the registry
 * (src/state) folds these events into one record per MAC. Events are plain JSON so the headless mode can
 * print them as they are.
 */
import type { Mac } from '../protocol/mac.js';

export type EventSource = 'dhcp4' | 'pxe4011' | 'tftp' | 'http' | 'syslog' | 'system';

interface EventBase {
  /** Milliseconds since the epoch. */
  readonly time: number;
  readonly source: EventSource;
  readonly mac?: Mac;
  /** The client's IPv4/IPv6 address when it has one. */
  readonly ip?: string;
}

/** A DHCP packet we received (decoded) or sent. `options` is a JSON view keyed by option name. */
export interface DhcpPacketEvent extends EventBase {
  readonly kind: 'dhcp.received' | 'dhcp.sent';
  readonly mac: Mac;
  readonly messageType: string;
  readonly xid: number;
  readonly interface?: string;
  readonly peer: string;
  readonly summary: string;
  readonly options: Readonly<Record<string, unknown>>;
  /** On dhcp.sent: the address and boot file the reply carries. */
  readonly yiaddr?: string;
  readonly bootFile?: string;
  /** The firmware family the boot core recognised (on dhcp.received). */
  readonly client?: string;
}

/** A request we chose not to answer, and why: never a silent drop. */
export interface DhcpIgnoredEvent extends EventBase {
  readonly kind: 'dhcp.ignored';
  readonly mac: Mac;
  readonly xid: number;
  readonly reason: string;
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

export interface ServerStateEvent extends EventBase {
  readonly kind: 'server.listening' | 'server.error' | 'server.closed';
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
}

/** Something the operator should know that is not tied to one client (a missing binary, a forced start). */
export interface NoticeEvent extends EventBase {
  readonly kind: 'notice';
  readonly level: 'info' | 'warning';
  readonly message: string;
}

export type PxedeckEvent =
  | NoticeEvent
  | DhcpPacketEvent
  | DhcpIgnoredEvent
  | MalformedEvent
  | LeaseEvent
  | ForeignDhcpServerEvent
  | ServerStateEvent
  | TransferEvent;

export type Emit = (event: PxedeckEvent) => void;
