/**
 * The syslog receiver: machines being booted send their log here (iPXE learns the address from DHCP
 * option 7, installers from `log_host=`/`inst.syslog=`), and every line becomes a `syslog.line` event on
 * that machine's timeline. Lines are bounded per window three ways: per source address (a chatty installer
 * cannot drown the others), over all sources together, and over the addresses no known machine has (source
 * addresses are the sender's to choose: a spoofed flood from many of them must not fill the event log until its
 * rotation erases the history). Lines beyond a bound are counted and reported once (`syslog.dropped`) when the
 * window ends. A known machine is one the registry or the neighbour table has a MAC for.
 */
import type { Socket } from 'node:dgram';
import type { Mac } from '../../protocol/mac.js';
import { decodeSyslog, SyslogDecodeError } from '../../protocol/syslog/decode.js';
import type { Emit } from '../events.js';
import { onDatagram } from '../net/datagram-guard.js';
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
  /** Lines accepted from all sources together per window. Default 1000. */
  readonly maxTotalLines?: number;
  /** Of those, lines from addresses with no known MAC. Default 50. */
  readonly maxUnknownLines?: number;
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
  readonly budget: 'source' | 'all' | 'unknown';
  /** Set for a source's own budget. */
  readonly ip?: string;
  readonly limit: number;
  readonly windowStart: number;
  lines: number;
  dropped: number;
  timer?: NodeJS.Timeout;
}

export const DEFAULT_SYSLOG_LIMITS = { perSource: 200, total: 1000, unknown: 50 } as const;
const DEFAULT_MAX_LINES = DEFAULT_SYSLOG_LIMITS.perSource;
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
  const maxTotalLines = options.maxTotalLines ?? DEFAULT_SYSLOG_LIMITS.total;
  const maxUnknownLines = options.maxUnknownLines ?? DEFAULT_SYSLOG_LIMITS.unknown;
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

  // The lookup may read the neighbour table: under a flood from many addresses, one lookup per address per
  // window (known or not), in a memo that never holds more than SWEEP_AT addresses.
  let memo = new Map<string, Mac | null>();
  let memoWindow = 0;
  const macOfSource = (ip: string, now: number): Mac | undefined => {
    if (now - memoWindow >= windowMs || memo.size >= SWEEP_AT) {
      memo = new Map();
      memoWindow = now;
    }
    let mac = memo.get(ip);
    if (mac === undefined) memo.set(ip, (mac = macOf(ip) ?? null));
    return mac ?? undefined;
  };

  const reportDropped = (budget: Budget): void => {
    if (budget.timer) clearTimeout(budget.timer);
    budget.timer = undefined;
    if (budget.dropped === 0) return;
    const mac = budget.ip === undefined ? undefined : macOf(budget.ip);
    emit({
      kind: 'syslog.dropped',
      time: Date.now(),
      source: 'syslog',
      budget: budget.budget,
      ...(budget.ip !== undefined && { ip: budget.ip }),
      ...(mac && { mac }),
      dropped: budget.dropped,
      limit: budget.limit,
      windowMs,
    });
    budget.dropped = 0;
  };

  /** The budget itself while its window is open, else a fresh one (the old one's drops reported). */
  const current = (budget: Budget | undefined, now: number, fresh: () => Budget): Budget => {
    if (budget && now - budget.windowStart < windowMs) return budget;
    if (budget) reportDropped(budget);
    return fresh();
  };

  let total: Budget | undefined;
  let unknown: Budget | undefined;

  const budgetFor = (ip: string, now: number): Budget => {
    const previous = budgets.get(ip);
    const budget = current(previous, now, () => {
      if (budgets.size >= SWEEP_AT) {
        for (const [key, entry] of budgets) {
          if (now - entry.windowStart >= windowMs && entry.dropped === 0) budgets.delete(key);
        }
      }
      return { budget: 'source', ip, limit: maxLines, windowStart: now, lines: 0, dropped: 0 };
    });
    if (budget !== previous) budgets.set(ip, budget);
    return budget;
  };

  const totalBudget = (now: number): Budget =>
    (total = current(total, now, () => ({ budget: 'all', limit: maxTotalLines, windowStart: now, lines: 0, dropped: 0 })));
  const unknownBudget = (now: number): Budget =>
    (unknown = current(unknown, now, () => ({ budget: 'unknown', limit: maxUnknownLines, windowStart: now, lines: 0, dropped: 0 })));

  const drop = (budget: Budget, lines: number): void => {
    budget.dropped += lines;
    stats.dropped += lines;
    if (!budget.timer) {
      budget.timer = setTimeout(() => reportDropped(budget), Math.max(0, budget.windowStart + windowMs - Date.now()));
      budget.timer.unref();
    }
  };

  /** Counts one line against every budget, or drops it on the first that is full. */
  const admit = (budgets: readonly Budget[]): boolean => {
    const full = budgets.find((budget) => budget.lines >= budget.limit);
    if (full) {
      drop(full, 1);
      return false;
    }
    for (const budget of budgets) budget.lines += 1;
    return true;
  };

  const onMessage = (message: Buffer, remote: { address: string; port: number }): void => {
    if (closed) return;
    stats.datagrams += 1;
    const now = Date.now();
    const ip = remote.address;
    // Cheapest first: a flood that has used the shared budget costs no MAC lookup and no per-source entry.
    const all = totalBudget(now);
    if (all.lines >= all.limit) return drop(all, countLines(message));
    const mac = macOfSource(ip, now);
    const stranger = mac ? undefined : unknownBudget(now);
    if (stranger && stranger.lines >= stranger.limit) return drop(stranger, countLines(message));
    const own = budgetFor(ip, now);
    if (own.lines >= own.limit) return drop(own, countLines(message));
    const budgets = stranger ? [own, all, stranger] : [own, all];
    const peer = `${ip}:${remote.port}`;
    let lines;
    try {
      lines = decodeSyslog(message, decodeOptions);
    } catch (error) {
      admit(budgets);
      stats.malformed += 1;
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
    for (const line of lines) {
      if (!admit(budgets)) continue;
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
  };

  try {
    for (const address of binds) {
      const socket = await openUdpSocket({ address: address.address, port: address.port });
      const bound = socket.address();
      const listener = { socket, address: { address: address.address, port: bound.port } };
      listeners.push(listener);
      onDatagram(socket, { source: 'syslog', emit, countDropped: () => (stats.malformed += 1) }, onMessage);
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
    for (const budget of [...budgets.values(), total, unknown]) if (budget) reportDropped(budget);
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
