/**
 * The TFTP server: one listening socket per local address (replies must leave from the address the
 * request came to, and Node cannot tell which local address a wildcard socket received on), one socket
 * per transfer, read-only, confined to its roots, with every request reported as an event.
 */
import type { Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { availableParallelism } from 'node:os';
import type { Mac } from '../../protocol/mac.js';
import {
  blksizeCapForMtu,
  DEFAULT_BLKSIZE_CAP,
  DEFAULT_WINDOW_BYTES_CAP,
  DEFAULT_WINDOWSIZE_CAP,
  negotiateOptions,
} from '../../protocol/tftp/options.js';
import { decode, encode, ERROR_CODES, type RequestPacket } from '../../protocol/tftp/packet.js';
import { normalizeRequestPath, type AbsolutePathPolicy } from '../../protocol/tftp/path.js';
import type { Emit, TransferEvent } from '../events.js';
import { onDatagram, sendDatagram } from '../net/datagram-guard.js';
import { mtuOfAddress } from '../net/mtu.js';
import { openRequestSource, type RequestSource, type ResolveVirtual, type TftpClient } from './request-source.js';
import type { RunOutcome } from './run-transfer.js';
import { createWorkerRunner, inThreadRunner, type TransferRunner } from './transfer-pool.js';
import { createTransferSlots } from './transfer-slots.js';
import { DEFAULT_RETRANSMIT, type RetransmitPolicy } from './retransmit.js';
import { bindUdpSocket, closeUdpSocket, newUdpSocket } from './udp-socket.js';

export interface TftpBind {
  readonly address: string;
  /** 69 in production; 0 picks a free port (tests). */
  readonly port: number;
}

export type { FileSpan, OptionalAbsence, TftpClient, VirtualFile } from './request-source.js';

export interface TftpServerOptions {
  readonly bind: TftpBind | readonly TftpBind[];
  /** Directories searched in order; a request is confined to the directory it is served from. */
  readonly root: string | readonly string[];
  readonly emit: Emit;
  readonly signal?: AbortSignal;
  /** Concurrent transfers; requests beyond get an error. Default 256. */
  readonly maxTransfers?: number;
  /**
   * Concurrent transfers from one client address; requests beyond get an error, so one host (a flood of
   * requests it never acknowledges: each holds its slot through 31 s of retransmissions) cannot take every
   * slot. Default 16: a PXE ROM or iPXE fetches one file at a time.
   */
  readonly maxTransfersPerClient?: number;
  /**
   * Largest blksize offered. Default: what the path allows, a DATA packet in one frame of the MTU of the
   * interface the request came to (1468 on Ethernet over IPv4, 1448 over IPv6, 8968 with 9000-byte jumbo
   * frames; 1468 when the interface is unknown). A cap above that (the operator's choice) sends IP fragments.
   */
  readonly blksizeCap?: number;
  readonly windowsizeCap?: number;
  /** Bound on blksize × windowsize: one window is one burst the client must buffer. Default 64 KiB. */
  readonly windowBytesCap?: number;
  /** A lower blksize cap for one client (an operator setting per MAC); undefined for none. */
  readonly blksizeCapFor?: (client: TftpClient) => number | undefined;
  readonly resolveVirtual?: ResolveVirtual;
  readonly macForAddress?: (ip: string) => Mac | undefined;
  /** How `/name` is treated; see normalizeRequestPath. Default 'refuse'. */
  readonly absolutePaths?: AbsolutePathPolicy;
  readonly retransmit?: Partial<RetransmitPolicy>;
  /** Bytes read ahead of the window per transfer. Default 256 KiB. */
  readonly readaheadBytes?: number;
  /** Minimum time between progress events of one transfer. Default 250 ms. */
  readonly progressIntervalMs?: number;
  /** Send a window with one system call where the kernel can split it (Linux UDP_SEGMENT). Default true. */
  readonly udpSegmentation?: boolean;
  /**
   * Worker threads that run transfers; 0 runs them on the calling thread. Default: defaultTransferThreads().
   * Many concurrent transfers need one to go as fast as tftpd-hpa, which forks per transfer.
   */
  readonly threads?: number;
  /** A worker thread with no transfer for this long ends (they start again on demand). Default 30 s. */
  readonly workerIdleMs?: number;
}

export interface TftpServer {
  readonly addresses: readonly TftpBind[];
  readonly activeTransfers: number;
  /** Worker threads running now: none while idle. */
  readonly workerThreads: number;
  close(): Promise<void>;
}

const DEFAULT_MAX_TRANSFERS = 256;

/**
 * Transfer threads by default: one per core beside the main thread's (which keeps DHCP, HTTP and the
 * listening sockets), at least one, at most 4. Each costs ~15 MiB while it lives, and on 2 cores one
 * serves 10 parallel clients as fast as two did (bench:tftp --servers pxedeck,pxedeck-t1: 50.2 against
 * 50.6 MB/s, tftpd-hpa 41.0); transfers on the main thread itself fell behind tftpd-hpa (39.9) and
 * doubled its event-loop delay (p99 3–4 ms against 2), the wait of every DHCP packet.
 */
export function defaultTransferThreads(cores = availableParallelism()): number {
  return Math.max(1, Math.min(4, cores - 1));
}

/** The largest block the link under `localAddress` carries without IP fragments. */
function pathBlksizeCap(localAddress: string): number {
  const mtu = mtuOfAddress(localAddress);
  return mtu === undefined ? DEFAULT_BLKSIZE_CAP : blksizeCapForMtu(mtu, isIPv6(localAddress.split('%')[0]!) ? 6 : 4);
}
export const DEFAULT_MAX_TRANSFERS_PER_CLIENT = 16;
/**
 * File bytes each transfer holds ahead of its window, in DATA packets allocated when it starts (read in
 * quarters: 16 KiB reads at this size). The page cache and the kernel's own readahead are behind it; what
 * this buys is fewer read calls. 256 KiB cost ~2.6 MiB in the transfer thread with 10 clients.
 */
export const DEFAULT_READAHEAD = 64 * 1024;

export async function createTftpServer(options: TftpServerOptions): Promise<TftpServer> {
  const binds = Array.isArray(options.bind) ? (options.bind as readonly TftpBind[]) : [options.bind as TftpBind];
  const roots = typeof options.root === 'string' ? [options.root] : [...(options.root as readonly string[])];
  const emit = options.emit;
  const retransmit: RetransmitPolicy = { ...DEFAULT_RETRANSMIT, ...options.retransmit };
  const progressInterval = options.progressIntervalMs ?? 250;
  const slots = createTransferSlots(options.maxTransfers ?? DEFAULT_MAX_TRANSFERS, options.maxTransfersPerClient ?? DEFAULT_MAX_TRANSFERS_PER_CLIENT);
  const threads = options.threads ?? defaultTransferThreads();
  const runner: TransferRunner = threads > 0 ? createWorkerRunner(threads, options.workerIdleMs) : inThreadRunner;
  const listeners: { socket: Socket; address: TftpBind }[] = [];
  let malformedCount = 0;
  const datagramReport = { source: 'tftp' as const, emit, countDropped: () => (malformedCount += 1) };
  let closed = false;

  const baseEvent = (client: TftpClient) => ({
    time: Date.now(),
    source: 'tftp' as const,
    ip: client.address,
    peer: `${client.address}:${client.port}`,
    ...(client.mac ? { mac: client.mac } : {}),
  });

  const emitTransfer = (client: TftpClient, fields: Omit<TransferEvent, 'time' | 'source' | 'ip' | 'peer' | 'mac'>): void => {
    emit({ ...baseEvent(client), ...fields });
  };

  const replyError = (socket: Socket, to: { address: string; port: number }, code: number, message: string): void => {
    if (closed) return;
    sendDatagram(socket, encode({ type: 'error', code, message }), to, (problem) => {
      emit({ kind: 'server.error', time: Date.now(), source: 'tftp', server: 'tftp', message: problem });
    });
  };

  async function handleRequest(listener: { socket: Socket; address: TftpBind }, packet: RequestPacket, raw: Buffer, remote: { address: string; port: number }): Promise<void> {
    const socket = listener.socket;
    const mac = options.macForAddress?.(remote.address);
    const client: TftpClient = { address: remote.address, port: remote.port, ...(mac ? { mac } : {}) };
    const refuse = (code: number, reason: string, file: string, kind: TransferEvent['kind'] = 'transfer.refused'): void => {
      replyError(socket, remote, code, reason);
      emitTransfer(client, { kind, file, bytes: 0, error: reason });
    };

    if (packet.type === 'wrq') {
      refuse(ERROR_CODES.accessViolation, 'this server is read-only', packet.filename);
      return;
    }
    const mode = packet.mode.toLowerCase();
    if (mode !== 'octet' && mode !== 'netascii') {
      refuse(ERROR_CODES.illegalOperation, `transfer mode ${JSON.stringify(packet.mode)} is not supported`, packet.filename);
      return;
    }

    const claim = slots.claim(remote, raw);
    if (claim.kind === 'repeat') return;
    if (claim.kind === 'refused') {
      refuse(ERROR_CODES.notDefined, claim.reason, packet.filename);
      return;
    }
    const entry = claim.slot;
    const release = entry.release;

    const normalized = normalizeRequestPath(packet.filename, { absolutePaths: options.absolutePaths ?? 'refuse' });
    if (!normalized.ok) {
      release();
      refuse(ERROR_CODES.accessViolation, normalized.reason, packet.filename);
      return;
    }
    const file = normalized.path;

    let opened: RequestSource;
    try {
      opened = await openRequestSource(file, client, roots, options.resolveVirtual);
    } catch (error) {
      release();
      const message = `cannot produce ${file}: ${error instanceof Error ? error.message : String(error)}`;
      replyError(socket, remote, ERROR_CODES.notDefined, 'server error');
      emitTransfer(client, { kind: 'transfer.error', file, bytes: 0, error: message });
      return;
    }
    if (opened.kind === 'missing') {
      release();
      if (opened.optional !== undefined) {
        replyError(socket, remote, ERROR_CODES.fileNotFound, 'file not found');
        emitTransfer(client, { kind: 'transfer.not-found', file, bytes: 0, error: `file not found (${opened.optional})`, benign: true });
      } else refuse(ERROR_CODES.fileNotFound, 'file not found', file, 'transfer.not-found');
      return;
    }
    if (opened.kind === 'refused') {
      release();
      refuse(ERROR_CODES.accessViolation, opened.reason, file);
      return;
    }
    const { size, source } = opened;
    entry.handle = opened.handle;
    const closeHandle = (): void => {
      void entry.handle?.close().catch(() => undefined);
      entry.handle = undefined;
    };
    if (entry.superseded || closed) {
      release();
      closeHandle();
      return;
    }

    // netascii changes the size on the wire, so no tsize then.
    const wireSize = mode === 'netascii' ? undefined : size;
    const clientCap = options.blksizeCapFor?.(client);
    const negotiation = negotiateOptions(packet.options, wireSize, {
      blksizeCap: Math.min(options.blksizeCap ?? pathBlksizeCap(listener.address.address), clientCap ?? Number.POSITIVE_INFINITY),
      windowsizeCap: options.windowsizeCap ?? DEFAULT_WINDOWSIZE_CAP,
      windowBytesCap: options.windowBytesCap ?? DEFAULT_WINDOW_BYTES_CAP,
    });

    const negotiated: Record<string, number> = { blksize: negotiation.blksize, windowsize: negotiation.windowsize };
    if (negotiation.tsize !== undefined) negotiated.tsize = negotiation.tsize;
    if (negotiation.timeout !== undefined) negotiated.timeout = negotiation.timeout;
    const sizeField = wireSize === undefined ? {} : { size: wireSize };
    const started = performance.now();
    let lastProgressAt = started;
    let lastProgressBytes = 0;

    const onFinish = (outcome: RunOutcome): void => {
      release();
      closeHandle();
      const durationMs = Math.round(performance.now() - started);
      if (outcome.kind === 'unstarted') {
        replyError(socket, remote, ERROR_CODES.notDefined, 'server error');
        emitTransfer(client, { kind: 'transfer.error', file, bytes: 0, ...sizeField, durationMs, error: outcome.message });
        return;
      }
      const rate = durationMs > 0 ? Math.round((outcome.bytes * 1000) / durationMs) : undefined;
      if (outcome.kind === 'done') {
        emitTransfer(client, { kind: 'transfer.done', file, bytes: outcome.bytes, ...sizeField, durationMs, ...(rate === undefined ? {} : { rate }) });
      } else {
        emitTransfer(client, {
          kind: 'transfer.error',
          file,
          bytes: outcome.bytes,
          ...sizeField,
          durationMs,
          error: outcome.probe ? `size probe: ${outcome.message}` : outcome.message,
          ...(outcome.probe ? { benign: true } : {}),
        });
      }
    };
    const onProgress = (bytes: number): void => {
      const now = performance.now();
      const rate = now > lastProgressAt ? Math.round(((bytes - lastProgressBytes) * 1000) / (now - lastProgressAt)) : 0;
      lastProgressAt = now;
      lastProgressBytes = bytes;
      emitTransfer(client, { kind: 'transfer.progress', file, bytes, ...sizeField, rate });
    };

    // RFC 2349: the client may ask us to wait longer before retransmitting. We echo its value (EDK2 checks
    // the echo) but never wait longer than our own first delay: under loss a 6 s wait (curl asks that) is
    // what makes TFTP slow, and an early retransmission costs the client only a duplicate it ignores.
    const policy: RetransmitPolicy =
      negotiation.timeout === undefined ? retransmit : { ...retransmit, initialMs: Math.min(retransmit.initialMs, negotiation.timeout * 1000) };
    emitTransfer(client, { kind: 'transfer.start', file, bytes: 0, ...sizeField, options: negotiated });
    entry.transfer = runner.run(
      {
        localAddress: listener.address.address,
        peer: { address: remote.address, port: remote.port },
        source,
        netascii: mode === 'netascii',
        blksize: negotiation.blksize,
        windowsize: negotiation.windowsize,
        oack: negotiation.oack,
        retransmit: policy,
        readaheadBytes: options.readaheadBytes ?? DEFAULT_READAHEAD,
        segmentation: options.udpSegmentation ?? true,
        progressIntervalMs: progressInterval,
      },
      { onProgress, onFinish },
    );
  }

  function onListenerMessage(listener: { socket: Socket; address: TftpBind }, message: Buffer, remote: { address: string; port: number }): void {
    if (closed) return;
    let packet;
    try {
      packet = decode(message);
    } catch (error) {
      malformedCount += 1;
      emit({
        kind: 'packet.malformed',
        time: Date.now(),
        source: 'tftp',
        ip: remote.address,
        peer: `${remote.address}:${remote.port}`,
        error: error instanceof Error ? error.message : String(error),
        length: message.length,
        count: malformedCount,
      });
      const opcode = message.length >= 2 ? message.readUInt16BE(0) : 0;
      if (opcode === 1 || opcode === 2) replyError(listener.socket, remote, ERROR_CODES.illegalOperation, 'malformed request');
      return;
    }
    // ACK, DATA, ERROR or OACK on the request port are late packets of finished transfers: nothing to do.
    if (packet.type !== 'rrq' && packet.type !== 'wrq') return;
    handleRequest(listener, packet, message, remote).catch((error: unknown) => {
      emit({
        kind: 'server.error',
        time: Date.now(),
        source: 'tftp',
        server: 'tftp',
        message: `request from ${remote.address}:${remote.port} failed: ${error instanceof Error ? error.message : String(error)}`,
      });
    });
  }

  try {
    for (const bind of binds) {
      const socket = newUdpSocket(bind.address);
      await bindUdpSocket(socket, bind.address, bind.port);
      const local = socket.address();
      const listener = { socket, address: { address: bind.address, port: local.port } };
      listeners.push(listener);
      onDatagram(socket, datagramReport, (message, remote) => onListenerMessage(listener, message, remote));
      socket.on('error', (error) => {
        emit({ kind: 'server.error', time: Date.now(), source: 'tftp', server: 'tftp', address: `${bind.address}:${local.port}`, message: error.message });
      });
      emit({ kind: 'server.listening', time: Date.now(), source: 'tftp', server: 'tftp', address: `${bind.address}:${local.port}` });
    }
  } catch (error) {
    await Promise.all(listeners.map((listener) => closeUdpSocket(listener.socket)));
    await runner.close();
    const message = error instanceof Error ? error.message : String(error);
    emit({ kind: 'server.error', time: Date.now(), source: 'tftp', server: 'tftp', message: `cannot listen: ${message}` });
    throw error;
  }

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      const open = slots.all();
      for (const entry of open) {
        entry.superseded = true;
        entry.transfer?.abort('server shutting down');
      }
      closed = true;
      await Promise.all(listeners.map((listener) => closeUdpSocket(listener.socket)));
      await runner.close();
      slots.clear();
      await Promise.all(open.map((entry) => entry.handle?.close().catch(() => undefined)));
      for (const listener of listeners) {
        emit({ kind: 'server.closed', time: Date.now(), source: 'tftp', server: 'tftp', address: `${listener.address.address}:${listener.address.port}` });
      }
    })();
    return closing;
  };
  if (options.signal) {
    if (options.signal.aborted) await close();
    else options.signal.addEventListener('abort', () => void close(), { once: true });
  }

  return {
    addresses: listeners.map((listener) => listener.address),
    get activeTransfers() {
      return slots.size;
    },
    get workerThreads() {
      return runner.threads;
    },
    close,
  };
}
