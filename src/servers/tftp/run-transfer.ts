/**
 * Everything a negotiated transfer needs once the server has decided to serve it: its sockets, its source
 * and the Transfer itself. The spec is plain data so that the same function runs in
 * the server's thread or in a worker thread.
 */
import type { Socket } from 'node:dgram';
import { unanswerableReason } from '../net/datagram-guard.js';
import { nativePeer } from '../net/native-peer.js';
import { FdSource, MemorySource, NetasciiSource, type BlockSource } from './block-source.js';
import { Transfer, type TransferInit, type TransferOutcome } from './transfer.js';
import { disableUdpSegmentation, enableUdpSegmentation } from './udp-segmentation.js';
import { openTransferSockets, type TransferSockets } from './transfer-sockets.js';

export type SourceSpec =
  /** `offset`: where the file's bytes start in the descriptor's file (a file inside an ISO image). */
  | { readonly kind: 'fd'; readonly fd: number; readonly size: number; readonly offset?: number }
  | { readonly kind: 'memory'; readonly content: Uint8Array };

/** What the server negotiated; the rest of a TransferInit is made here. */
export interface TransferSpec
  extends Pick<TransferInit, 'peer' | 'blksize' | 'windowsize' | 'oack' | 'retransmit' | 'readaheadBytes' | 'progressIntervalMs'> {
  /** The address the request came to: the transfer's socket binds there. */
  readonly localAddress: string;
  readonly source: SourceSpec;
  readonly netascii: boolean;
  /** UDP segmentation may be tried (it is turned on only where the socket accepts it). */
  readonly segmentation: boolean;
}

/** 'unstarted': no socket could be opened; the server answers the client from its listening socket. */
export type RunOutcome = TransferOutcome | { readonly kind: 'unstarted'; readonly message: string };

export interface RunCallbacks {
  /** Acknowledged bytes, at most once per progressIntervalMs. */
  readonly onProgress: (bytes: number) => void;
  readonly onFinish: (outcome: RunOutcome) => void;
  /**
   * The event loop handed a packet to a transfer that could be served synchronously (see
   * synchronous-slices.ts): the thread's owner may start a slice.
   */
  readonly onWake?: () => void;
}

export interface RunningTransfer {
  abort(message: string): void;
}

/** A transfer running on this thread. */
export interface LocalTransfer extends RunningTransfer {
  /** Once its socket is open. */
  readonly transfer: Transfer | undefined;
}

function sourceFor(spec: TransferSpec): BlockSource {
  const raw =
    spec.source.kind === 'fd'
      ? new FdSource(spec.source.fd, spec.source.size, spec.source.offset)
      : new MemorySource(Buffer.from(spec.source.content.buffer, spec.source.content.byteOffset, spec.source.content.byteLength));
  return spec.netascii ? new NetasciiSource(raw) : raw;
}

export function runTransfer(spec: TransferSpec, callbacks: RunCallbacks): LocalTransfer {
  let transfer: Transfer | undefined;
  let abortedWith: string | undefined;
  const start = async (): Promise<void> => {
    let sockets: TransferSockets;
    try {
      sockets = await openTransferSockets(spec.localAddress, spec.peer);
    } catch (error) {
      callbacks.onFinish({ kind: 'unstarted', message: `cannot open a transfer socket: ${error instanceof Error ? error.message : String(error)}` });
      return;
    }
    if (abortedWith !== undefined) {
      await sockets.close();
      callbacks.onFinish({ kind: 'error', bytes: 0, message: abortedWith, probe: false, byClient: false });
      return;
    }
    const boundSocket = sockets.socket;
    const source = sourceFor(spec);
    const segmentation = spec.segmentation && spec.windowsize > 1 && enableUdpSegmentation(boundSocket, 4 + spec.blksize);
    const native = spec.windowsize === 1 ? nativePeer(boundSocket, spec.peer.address, spec.peer.port, sockets.connected) : undefined;
    transfer = new Transfer({
      socket: boundSocket,
      connected: sockets.connected,
      peer: spec.peer,
      source,
      blksize: spec.blksize,
      windowsize: spec.windowsize,
      oack: spec.oack,
      retransmit: spec.retransmit,
      readaheadBytes: spec.readaheadBytes,
      segmentation,
      ...(native ? { native } : {}),
      stopSegmentation: () => disableUdpSegmentation(boundSocket),
      onProgress: callbacks.onProgress,
      progressIntervalMs: spec.progressIntervalMs,
      onFinish: (outcome) => {
        void sockets.close();
        void source.close().catch(() => undefined);
        callbacks.onFinish(outcome);
      },
    });
    transfer.start();
    // Every packet the event loop hands the transfer (the ACK of the OACK, an ACK after a slice ended)
    // is a chance to go back to synchronous slices. Registered after the transfer's own listener.
    const wake = callbacks.onWake;
    if (native && wake) boundSocket.on('message', () => wake());
  };

  const unanswerable = unanswerableReason(spec.peer);
  if (unanswerable !== undefined) {
    // Nothing could reach this peer: say so before any socket is opened (the server drops its request).
    queueMicrotask(() => callbacks.onFinish({ kind: 'unstarted', message: unanswerable }));
  } else {
    start().catch((error: unknown) => {
      const message = `transfer failed: ${error instanceof Error ? error.message : String(error)}`;
      if (transfer) transfer.fail(message);
      else callbacks.onFinish({ kind: 'unstarted', message });
    });
  }
  return {
    abort(message: string): void {
      if (transfer) transfer.abort(message);
      else abortedWith ??= message;
    },
    get transfer() {
      return transfer;
    },
  };
}
