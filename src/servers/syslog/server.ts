/**
 * The syslog receiver: machines being booted send their log here (iPXE learns the address from DHCP
 * option 7, installers from `log_host=`/`inst.syslog=`), and every line becomes a `syslog.line` event on
 * that machine's timeline. Lines per source address are bounded: beyond the limit in a window they are
 * counted and reported once (`syslog.dropped`) when the window ends, so a chatty installer cannot drown
 * the console or the event log.
 */
import type { Socket } from 'node:dgram';
import type { Mac } from '../../protocol/mac.js';
import { decodeSyslog, SyslogDecodeError } from '../../protocol/syslog/decode.js';
import type { Emit } from '../events.js';
import { openUdpSocket } from '../net/device-socket.js';

export const DEFAULT_SYSLOG_PORT = 514;

export interface SyslogBind {
  readonly address: string;
  /** 514 in production; 0 picks a free port (tests). */
  readonly port: number;
}

export interface SyslogServerOptions {
  readonly bind: SyslogBind | readonly SyslogBind[];
  readonly emit: Emit;
  readonly signal?: AbortSignal;
  readonly macForIp?: (ip: string) => Mac | undefined;
  /** Lines accepted per source address per window. Default 200. */
  readonly maxLines?: number;
  /** Default 1000 ms. */
  readonly windowMs?: number;
  /** Characters kept per line. Default 2048. */
  readonly maxMessageLength?: number;
}

export interface SyslogStats {
  datagrams: number;
  lines: number;
  malformed: number;
  dropped: number;
}

export interface SyslogServer {
  readonly addresses: readonly SyslogBind[];
  readonly stats: Readonly<SyslogStats>;
  close(): Promise<void>;
}

interface Budget {
  readonly ip: string;
  readonly windowStart: number;
  lines: number;
  dropped: number;
  timer?: NodeJS.Timeout;
}

const DEFAULT_MAX_LINES = 200;
const DEFAULT_WINDOW_MS = 1000;
/** Past this many tracked sources, expired windows are swept (source addresses are the client's to choose). */
const SWEEP_AT = 1024;

/** Lines in a datagram dropped unread: the newline-separated parts that are not empty. */
function countLines(message: Buffer): number {
  let lines = 0;
  let inLine = false;
  for (const byte of message) {
    if (byte === 0x0a || byte === 0x0d || byte === 0) inLine = false;
    else if (!inLine) {
      inLine = true;
      lines += 1;
    }
  }
  return Math.max(lines, 1);
}

export async function createSyslogServer(options: SyslogServerOptions): Promise<SyslogServer> {
  const binds = Array.isArray(options.bind) ? (options.bind as readonly SyslogBind[]) : [options.bind as SyslogBind];
  const { emit } = options;
  const maxLines = options.maxLines ?? DEFAULT_MAX_LINES;
  const windowMs = options.windowMs ?? DEFAULT_WINDOW_MS;
  const decodeOptions = options.maxMessageLength === undefined ? {} : { maxMessageLength: options.maxMessageLength };
  const stats: SyslogStats = { datagrams: 0, lines: 0, malformed: 0, dropped: 0 };
  const budgets = new Map<string, Budget>();
  const listeners: { socket: Socket; address: SyslogBind }[] = [];
  let closed = false;

  const macOf = (ip: string): Mac | undefined => {
    try {
      return options.macForIp?.(ip);
    } catch {
      return undefined;
    }
  };

  const reportDropped = (budget: Budget): void => {
    if (budget.timer) clearTimeout(budget.timer);
    budget.timer = undefined;
    if (budget.dropped === 0) return;
    const mac = macOf(budget.ip);
    emit({
      kind: 'syslog.dropped',
      time: Date.now(),
      source: 'syslog',
      ip: budget.ip,
      ...(mac && { mac }),
      dropped: budget.dropped,
      limit: maxLines,
      windowMs,
    });
    budget.dropped = 0;
  };

  const budgetFor = (ip: string, now: number): Budget => {
    const current = budgets.get(ip);
    if (current && now - current.windowStart < windowMs) return current;
    if (current) reportDropped(current);
    if (budgets.size >= SWEEP_AT) {
      for (const [key, budget] of budgets) {
        if (now - budget.windowStart >= windowMs && budget.dropped === 0) budgets.delete(key);
      }
    }
    const fresh: Budget = { ip, windowStart: now, lines: 0, dropped: 0 };
    budgets.set(ip, fresh);
    return fresh;
  };

  const drop = (budget: Budget, lines: number): void => {
    budget.dropped += lines;
    stats.dropped += lines;
    if (!budget.timer) {
      budget.timer = setTimeout(() => reportDropped(budget), Math.max(0, budget.windowStart + windowMs - Date.now()));
      budget.timer.unref();
    }
  };

  const onMessage = (message: Buffer, remote: { address: string; port: number }): void => {
    if (closed) return;
    stats.datagrams += 1;
    const now = Date.now();
    const ip = remote.address;
    const budget = budgetFor(ip, now);
    if (budget.lines >= maxLines) {
      drop(budget, countLines(message));
      return;
    }
    const peer = `${ip}:${remote.port}`;
    let lines;
    try {
      lines = decodeSyslog(message, decodeOptions);
    } catch (error) {
      budget.lines += 1;
      stats.malformed += 1;
      const mac = macOf(ip);
      emit({
        kind: 'packet.malformed',
        time: now,
        source: 'syslog',
        ip,
        ...(mac && { mac }),
        peer,
        error: error instanceof SyslogDecodeError ? error.message : `decoder failed: ${String(error)}`,
        length: message.length,
        count: stats.malformed,
      });
      return;
    }
    const mac = macOf(ip);
    let over = 0;
    for (const line of lines) {
      if (budget.lines >= maxLines) {
        over += 1;
        continue;
      }
      budget.lines += 1;
      stats.lines += 1;
      emit({
        kind: 'syslog.line',
        time: now,
        source: 'syslog',
        ip,
        ...(mac && { mac }),
        peer,
        facility: line.facility,
        severity: line.severity,
        ...(line.hostname !== undefined && { hostname: line.hostname }),
        ...(line.app !== undefined && { app: line.app }),
        message: line.message,
      });
    }
    if (over > 0) drop(budget, over);
  };

  try {
    for (const address of binds) {
      const socket = await openUdpSocket({ address: address.address, port: address.port });
      const bound = socket.address();
      const listener = { socket, address: { address: address.address, port: bound.port } };
      listeners.push(listener);
      socket.on('message', onMessage);
      socket.on('error', (error) => emit({ kind: 'server.error', time: Date.now(), source: 'syslog', server: 'syslog', message: error.message }));
    }
  } catch (error) {
    for (const { socket } of listeners) socket.close();
    throw error;
  }
  for (const { address } of listeners) {
    emit({ kind: 'server.listening', time: Date.now(), source: 'syslog', server: 'syslog', address: `${address.address}:${address.port}` });
  }

  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    for (const budget of budgets.values()) reportDropped(budget);
    budgets.clear();
    await Promise.all(listeners.map(({ socket }) => new Promise<void>((resolve) => socket.close(() => resolve()))));
    emit({ kind: 'server.closed', time: Date.now(), source: 'syslog', server: 'syslog' });
  };
  if (options.signal?.aborted) await close();
  else options.signal?.addEventListener('abort', () => void close(), { once: true });

  return {
    addresses: listeners.map(({ address }) => address),
    stats,
    close,
  };
}
