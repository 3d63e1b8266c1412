/**
 * Everything a negotiated transfer needs once the server has decided to serve it: its socket, its source,
 * the Transfer itself and throttled progress. The spec is plain data so that the same function runs in
 * the server's thread or in a worker thread.
 */
import type { Socket } from 'node:dgram';
import type { TftpOption } from '../../protocol/tftp/packet.js';
import { directSender } from '../net/direct-send.js';
import { FdSource, MemorySource, NetasciiSource, type BlockSource } from './block-source.js';
import { Transfer, type RetransmitPolicy, type TransferOutcome, type TransferPeer } from './transfer.js';
import { disableUdpSegmentation, enableUdpSegmentation } from './udp-segmentation.js';
import { bindUdpSocket, closeUdpSocket, newUdpSocket } from './udp-socket.js';

export type SourceSpec =
  | { readonly kind: 'fd'; readonly fd: number; readonly size: number }
  | { readonly kind: 'memory'; readonly content: Uint8Array };

export interface TransferSpec {
  /** The address the request came to: the transfer's socket binds there. */
  readonly localAddress: string;
  readonly peer: TransferPeer;
  readonly source: SourceSpec;
  readonly netascii: boolean;
  readonly blksize: number;
  readonly windowsize: number;
  readonly oack: readonly TftpOption[];
  readonly retransmit: RetransmitPolicy;
  readonly readaheadBytes: number;
  readonly segmentation: boolean;
  readonly progressIntervalMs: number;
}

/** 'unstarted': no socket could be opened; the server answers the client from its listening socket. */
export type RunOutcome = TransferOutcome | { readonly kind: 'unstarted'; readonly message: string };

export interface RunCallbacks {
  /** Acknowledged bytes, at most once per progressIntervalMs. */
  readonly onProgress: (bytes: number) => void;
  readonly onFinish: (outcome: RunOutcome) => void;
}

export interface RunningTransfer {
  abort(message: string): void;
}

function sourceFor(spec: TransferSpec): BlockSource {
  const raw =
    spec.source.kind === 'fd'
      ? new FdSource(spec.source.fd, spec.source.size)
      : new MemorySource(Buffer.from(spec.source.content.buffer, spec.source.content.byteOffset, spec.source.content.byteLength));
  return spec.netascii ? new NetasciiSource(raw) : raw;
}

export function runTransfer(spec: TransferSpec, callbacks: RunCallbacks): RunningTransfer {
  let transfer: Transfer | undefined;
  let abortedWith: string | undefined;
  let socket: Socket | undefined;

  const start = async (): Promise<void> => {
    socket = newUdpSocket(spec.localAddress);
    socket.on('error', () => undefined);
    try {
      await bindUdpSocket(socket, spec.localAddress, 0);
    } catch (error) {
      await closeUdpSocket(socket);
      callbacks.onFinish({ kind: 'unstarted', message: `cannot open a transfer socket: ${error instanceof Error ? error.message : String(error)}` });
      return;
    }
    if (abortedWith !== undefined) {
      await closeUdpSocket(socket);
      callbacks.onFinish({ kind: 'error', bytes: 0, message: abortedWith, probe: false, byClient: false });
      return;
    }
    const boundSocket = socket;
    const source = sourceFor(spec);
    const segmentation = spec.segmentation && spec.windowsize > 1 && enableUdpSegmentation(boundSocket, 4 + spec.blksize);
    let lastProgress = performance.now();
    transfer = new Transfer({
      socket: boundSocket,
      peer: spec.peer,
      source,
      blksize: spec.blksize,
      windowsize: spec.windowsize,
      oack: spec.oack,
      retransmit: spec.retransmit,
      readaheadBytes: spec.readaheadBytes,
      segmentation,
      ...(spec.windowsize === 1 ? { directSend: directSender(boundSocket, spec.peer.address, spec.peer.port) } : {}),
      stopSegmentation: () => disableUdpSegmentation(boundSocket),
      onProgress: (bytes) => {
        const now = performance.now();
        if (now - lastProgress < spec.progressIntervalMs) return;
        lastProgress = now;
        callbacks.onProgress(bytes);
      },
      onFinish: (outcome) => {
        void closeUdpSocket(boundSocket);
        void source.close().catch(() => undefined);
        callbacks.onFinish(outcome);
      },
    });
    transfer.start();
  };

  void start();
  return {
    abort(message: string): void {
      if (transfer) transfer.abort(message);
      else abortedWith ??= message;
    },
  };
}
