/**
 * One read transfer: its own socket (the TID), the RFC 7440 window over a ring of packets filled ahead by
 * the block source (block-ring.ts), and retransmission.
 *
 * Block numbers are kept absolute (1, 2, … past 65535) and only the low 16 bits go on the wire, so block
 * wrap needs no special case. Acknowledgement rules:
 * - An ACK for a block we sent at or after the window's start advances the window and the next window is
 *   sent from the block after it; when that ACK falls inside the window (the client saw a gap) this
 *   resends the rest, as RFC 7440 asks.
 * - An ACK for the block before the window (a duplicate) never advances. With windowsize 1 it is ignored
 *   (the Sorcerer's Apprentice rule, RFC 1123). With a larger window the client is telling us the window's
 *   first block was lost: we resend from it, at most once per acknowledged block, and only when every
 *   block that ACK covered had been sent once. EDK2 answers every out-of-order *or repeated* block with an
 *   ACK of the last block in order; once any block went out twice (a retransmission after a lost ACK), the
 *   client's answers to the copies look exactly like loss reports, and resending on them would send every
 *   window twice from then on (measured: 2× the packets at 5 % loss). Those cases fall back to the timer.
 */
import type { Socket } from 'node:dgram';
import { encode, ERROR_CODES, OPCODES, type TftpOption } from '../../protocol/tftp/packet.js';
import { sendDatagram } from '../net/datagram-guard.js';
import type { NativePeer } from '../net/native-peer.js';
import type { BlockSource } from './block-source.js';
import { BlockRing } from './block-ring.js';
import { RetransmitClock, type RetransmitPolicy } from './retransmit.js';
import { MAX_GSO_PAYLOAD, MAX_SEGMENTS } from './udp-segmentation.js';

export interface TransferPeer {
  readonly address: string;
  readonly port: number;
}

export type TransferOutcome =
  | { readonly kind: 'done'; readonly bytes: number }
  | {
      readonly kind: 'error';
      readonly bytes: number;
      readonly message: string;
      /** The client ended it right after our OACK that announced the size: the size probe. */
      readonly probe: boolean;
      /** The client sent the error (as opposed to us giving up or failing). */
      readonly byClient: boolean;
    };

/** RFC 1350 §4: a packet from another address or port on a transfer's port is answered, not obeyed. */
export function answerStranger(socket: Socket, remote: TransferPeer): void {
  // A stranger no reply can reach (source port 0) gets none; the transfer carries on either way.
  sendDatagram(socket, encode({ type: 'error', code: ERROR_CODES.unknownTransferId, message: 'unknown transfer ID' }), remote, ignoreSendError);
}

const ignoreSendError = (): void => undefined;

export interface TransferInit {
  /** Connected to the peer when `connected`; otherwise it hears strangers too, and answers them. */
  readonly socket: Socket;
  readonly connected: boolean;
  readonly peer: TransferPeer;
  readonly source: BlockSource;
  readonly blksize: number;
  readonly windowsize: number;
  /** Options to acknowledge; empty means none and DATA 1 goes first. */
  readonly oack: readonly TftpOption[];
  readonly retransmit: RetransmitPolicy;
  /** Bytes to keep read ahead of the window. */
  readonly readaheadBytes: number;
  /** The socket splits multi-packet sends into datagrams of 4 + blksize bytes (UDP_SEGMENT). */
  readonly segmentation: boolean;
  /**
   * System calls straight on the socket (net/native-peer.ts): every packet to the peer goes out through
   * it (dgram takes over one it refused), and synchronous slices (synchronous-slices.ts) receive through
   * it. Only given at windowsize 1, where nothing else is in flight that dgram could still hold queued.
   */
  readonly native?: NativePeer;
  /** Turns that off on the socket, after a segmented send failed. */
  readonly stopSegmentation?: () => void;
  /** Acknowledged bytes so far, at most once per `progressIntervalMs`. */
  readonly onProgress: (bytes: number) => void;
  readonly progressIntervalMs: number;
  readonly onFinish: (outcome: TransferOutcome) => void;
}

type Phase = 'oack' | 'data' | 'finished';

export class Transfer {
  private phase: Phase;
  private readonly socket: Socket;
  private readonly peer: TransferPeer;
  private readonly source: BlockSource;
  private readonly windowsize: number;
  private readonly clock: RetransmitClock;
  private readonly oackPacket: Buffer | undefined;
  private readonly announcesSize: boolean;

  private readonly ring: BlockRing;
  /** Packets per send when the kernel segments for us; 0 sends one by one. */
  private batchSegments: number;

  /** First unacknowledged block. */
  private base = 1;
  private nextToSend = 1;
  private windowEnd: number;
  private highestSent = 0;
  private ackedBytes = 0;

  private progressAt = 0;
  private oackSends = 0;
  /** Every block the last forward-moving ACK covered went out exactly once: its duplicates are loss reports. */
  private cleanAck = true;
  /** The acknowledged block we last resent for on a duplicate ACK. */
  private duplicateAnswered = -1;

  constructor(private readonly init: TransferInit) {
    this.socket = init.socket;
    this.peer = init.peer;
    this.source = init.source;
    this.windowsize = init.windowsize;
    this.clock = new RetransmitClock(init.retransmit, (givenUp) => (givenUp ? this.timedOut() : this.resend()));
    this.announcesSize = init.oack.some((option) => option.name === 'tsize');
    this.oackPacket = init.oack.length > 0 ? encode({ type: 'oack', options: init.oack }) : undefined;
    this.phase = this.oackPacket ? 'oack' : 'data';

    this.ring = new BlockRing(init.source, init.blksize, init.windowsize, init.readaheadBytes, {
      onLoaded: (synchronously) => {
        this.windowEnd = Math.min(this.windowEnd, this.ring.lastBlock);
        if (synchronously) {
          this.pump();
          return;
        }
        if (this.phase === 'data') this.pump();
        this.fill();
      },
      onReadFailed: (error) => this.readFailed(error),
      isFinished: () => this.phase === 'finished',
    });
    this.windowEnd = Math.min(this.windowsize, this.ring.lastBlock);
    const perSend = Math.min(MAX_SEGMENTS, Math.floor(MAX_GSO_PAYLOAD / (4 + init.blksize)));
    this.batchSegments = init.segmentation && init.windowsize > 1 && perSend > 1 ? perSend : 0;
  }

  start(): void {
    this.socket.on('message', this.onMessage);
    this.clock.start();
    this.progressAt = this.clock.quietSince;
    this.fill();
    if (this.oackPacket) this.sendOack();
    else this.startWindow();
  }

  /** Ends the transfer from outside (server closing, request superseded), telling the client why. */
  abort(message: string): void {
    if (this.phase === 'finished') return;
    this.sendError(ERROR_CODES.notDefined, message);
    this.finish({ kind: 'error', bytes: this.ackedBytes, message, probe: false, byClient: false });
  }

  /** Ends the transfer after a fault of our own, without another send (that may be what failed). */
  fail(message: string): void {
    this.finish({ kind: 'error', bytes: this.ackedBytes, message, probe: false, byClient: false });
  }

  /** One datagram's fault ends this transfer, never the thread it runs on (a worker's death fails its neighbours). */
  private readonly onMessage = (message: Buffer, remote: { address: string; port: number }): void => {
    try {
      this.handleMessage(message, remote);
    } catch (error) {
      this.fail(`transfer failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  };

  private handleMessage(message: Buffer, remote: { address: string; port: number }): void {
    if (remote.port !== this.peer.port || remote.address !== this.peer.address) {
      // Another sender on our TID (RFC 1350 §4): tell it, leave the transfer alone. (A connected socket
      // never hears one; its stranger catcher answers instead.)
      if (!this.init.connected) answerStranger(this.socket, remote);
      return;
    }
    if (this.phase === 'finished' || message.length < 4 || message[0] !== 0) return;
    const opcode = message[1];
    if (opcode === OPCODES.ack) this.onAck(message.readUInt16BE(2));
    else if (opcode === OPCODES.error) this.onClientError(message);
    else if (opcode === OPCODES.rrq || opcode === OPCODES.wrq || opcode === OPCODES.data || opcode === OPCODES.oack) {
      const text = 'unexpected packet during a read transfer';
      this.sendError(ERROR_CODES.illegalOperation, text);
      this.finish({ kind: 'error', bytes: this.ackedBytes, message: text, probe: false, byClient: false });
    }
  }

  private onClientError(message: Buffer): void {
    const code = message.readUInt16BE(2);
    const end = message.indexOf(0, 4);
    const text = message.toString('latin1', 4, end < 0 ? message.length : end);
    const probe = this.phase === 'oack' && this.announcesSize;
    this.finish({
      kind: 'error',
      bytes: this.ackedBytes,
      message: `client sent error ${code}${text ? `: ${text}` : ''}`,
      probe,
      byClient: true,
    });
  }

  private onAck(wire: number): void {
    if (this.phase === 'oack') {
      if (wire !== 0) return;
      this.phase = 'data';
      this.cleanAck = this.oackSends === 1;
      this.clock.answered();
      this.startWindow();
      return;
    }
    const before = this.base - 1;
    const acked = before + ((((wire - before) % 0x10000) + 0x10000) % 0x10000);
    if (acked > this.highestSent) return;
    if (acked > before) {
      let clean = true;
      for (let block = this.base; block <= acked; block += 1) {
        this.ackedBytes += this.ring.length(block);
        if (this.ring.resent(block)) clean = false;
      }
      this.cleanAck = clean;
      this.base = acked + 1;
      if (this.base > this.ring.lastBlock) {
        this.finish({ kind: 'done', bytes: this.ackedBytes });
        return;
      }
      // The next window first: at windowsize 1 the client waits for it, and the bookkeeping can follow.
      this.startWindow();
      this.clock.answered();
      this.reportProgress();
      return;
    }
    if (this.windowsize === 1 || !this.cleanAck || this.duplicateAnswered === acked) return;
    this.duplicateAnswered = acked;
    this.startWindow();
  }

  // Synchronous service (synchronous-slices.ts): a worker thread whose transfers are all at windowsize 1
  // serves them without returning to its event loop for a while — blocking receives, each ACK answered
  // at once, file reads done in place. Timers, messages and other sockets wait until it returns.

  /** The native path, when this transfer can be served synchronously at all. */
  get nativePeer(): NativePeer | undefined {
    return this.init.native && this.source.readSync ? this.init.native : undefined;
  }

  /** Whether it can be served synchronously right now: awaiting an ACK, no asynchronous read in flight. */
  canServeSynchronously(): boolean {
    return this.nativePeer !== undefined && (this.phase === 'data' || this.phase === 'oack') && !this.ring.reading;
  }

  /** Milliseconds until the retransmission timer is due (≤ 0: it is, and the event loop must run it). */
  retransmissionDueInMs(now: number): number {
    return this.clock.dueInMs(now);
  }

  /** Reads become synchronous (no promise settles until the thread returns to its event loop). */
  setSynchronous(on: boolean): void {
    this.ring.synchronous = on;
  }

  /** Handles the datagram the native path just received (`length` bytes at the start of its inbox). */
  handleReceived(length: number): void {
    const native = this.init.native!;
    const inbox = native.inbox;
    const fromPeer = this.init.connected || native.lastFromPeer();
    if (length >= 4 && inbox[0] === 0 && inbox[1] === OPCODES.ack && fromPeer) this.onAck(inbox.readUInt16BE(2));
    else this.onMessage(inbox.subarray(0, length), fromPeer ? this.peer : native.lastSender());
  }

  isFinished(): boolean {
    return this.phase === 'finished';
  }

  /** Sends the window that starts at `base`, as far as its data is loaded (the rest follows the read). */
  private startWindow(): void {
    this.windowEnd = Math.min(this.base + this.windowsize - 1, this.ring.lastBlock);
    this.nextToSend = this.base;
    this.pump();
    this.fill();
  }

  private pump(): void {
    const limit = Math.min(this.windowEnd, this.ring.loaded);
    if (this.batchSegments > 1) {
      while (this.nextToSend < limit) {
        const last = Math.min(limit, this.nextToSend + this.batchSegments - 1);
        const batch: Buffer[] = [];
        for (let block = this.nextToSend; block <= last; block += 1) batch.push(this.ring.packet(block));
        if (this.init.connected) this.socket.send(batch, this.onBatchSent);
        else this.socket.send(batch, this.peer.port, this.peer.address, this.onBatchSent);
        this.nextToSend = last + 1;
      }
    }
    while (this.nextToSend <= limit) {
      this.send(this.ring.packet(this.nextToSend));
      this.nextToSend += 1;
    }
    if (this.nextToSend - 1 > this.highestSent) this.highestSent = this.nextToSend - 1;
  }

  /**
   * A segmented send fails as a whole (EMSGSIZE when a segment would need IP fragmentation, EIO on a device
   * that cannot checksum for us): send this transfer packet by packet from then on, starting with the window.
   */
  private readonly onBatchSent = (error: Error | null): void => {
    if (!error || this.batchSegments === 0 || this.phase === 'finished') return;
    this.batchSegments = 0;
    this.init.stopSegmentation?.();
    this.startWindow();
  };

  private fill(): void {
    if (this.phase !== 'finished') this.ring.fill(this.base, this.windowEnd);
  }

  private readFailed(error: unknown): void {
    const text = `read error: ${error instanceof Error ? error.message : String(error)}`;
    this.sendError(ERROR_CODES.notDefined, 'read error on the server');
    this.finish({ kind: 'error', bytes: this.ackedBytes, message: text, probe: false, byClient: false });
  }

  private timedOut(): void {
    if (this.phase === 'finished') return;
    const message =
      this.phase === 'oack'
        ? 'no answer to the option acknowledgement'
        : this.base > this.ring.lastBlock - 1 && this.highestSent === this.ring.lastBlock
          ? 'last block never acknowledged'
          : `no acknowledgement after ${this.clock.retries} retransmissions`;
    this.sendError(ERROR_CODES.notDefined, 'timed out');
    this.finish({ kind: 'error', bytes: this.ackedBytes, message, probe: false, byClient: false });
  }

  private resend(): void {
    if (this.phase === 'oack') this.sendOack();
    else if (this.phase === 'data') this.startWindow();
  }

  /** Reuses the clock's reading of the answer: one per ACK is enough. */
  private reportProgress(): void {
    if (this.clock.quietSince - this.progressAt < this.init.progressIntervalMs) return;
    this.progressAt = this.clock.quietSince;
    this.init.onProgress(this.ackedBytes);
  }

  private sendOack(): void {
    this.oackSends += 1;
    this.send(this.oackPacket!);
  }

  private send(packet: Buffer): void {
    if (this.init.native?.send(packet)) return;
    if (this.init.connected) this.socket.send(packet);
    else this.socket.send(packet, this.peer.port, this.peer.address);
  }

  private sendError(code: number, message: string): void {
    this.send(encode({ type: 'error', code, message }));
  }

  private finish(outcome: TransferOutcome): void {
    if (this.phase === 'finished') return;
    this.phase = 'finished';
    this.clock.stop();
    this.socket.off('message', this.onMessage);
    this.init.onFinish(outcome);
  }
}
