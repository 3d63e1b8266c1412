/**
 * A TFTP client for tests that speaks bytes: it sends what a test asks (including nonsense) and records
 * what comes back, and it can receive a whole file the way EDK2's Mtftp4 does (ACK at the end of each
 * window; an out-of-order or repeated block is answered at once with an ACK of the last block in order).
 */
import { createSocket, type Socket } from 'node:dgram';
import { decode, encode, type TftpPacket } from '../../../src/protocol/tftp/packet.js';

export interface Address {
  readonly address: string;
  readonly port: number;
}

export interface Received {
  readonly packet: TftpPacket;
  readonly raw: Buffer;
  readonly from: Address;
  readonly at: number;
}

export class RawClient {
  private readonly queue: Received[] = [];
  private waiter: (() => void) | undefined;
  readonly log: Received[] = [];

  private constructor(readonly socket: Socket) {
    socket.on('message', (raw, from) => {
      let packet: TftpPacket;
      try {
        packet = decode(raw);
      } catch {
        return;
      }
      const received = { packet, raw: Buffer.from(raw), from: { address: from.address, port: from.port }, at: performance.now() };
      this.queue.push(received);
      this.log.push(received);
      this.waiter?.();
    });
  }

  static async open(address = '127.0.0.1'): Promise<RawClient> {
    const socket = address.includes(':') ? createSocket({ type: 'udp6', ipv6Only: true }) : createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, address, resolve));
    return new RawClient(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  private pending = 0;
  private flushed: (() => void) | undefined;

  send(packet: TftpPacket | Buffer, to: Address): void {
    this.pending += 1;
    this.socket.send(Buffer.isBuffer(packet) ? packet : encode(packet), to.port, to.address, () => {
      this.pending -= 1;
      if (this.pending === 0) this.flushed?.();
    });
  }

  /** The next packet (optionally the next one matching), or undefined after `timeoutMs`. */
  async next(timeoutMs = 2000, match?: (received: Received) => boolean): Promise<Received | undefined> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const index = match ? this.queue.findIndex(match) : this.queue.length > 0 ? 0 : -1;
      if (index >= 0) return this.queue.splice(index, 1)[0];
      const left = deadline - performance.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = undefined;
    }
  }

  /** Waits `ms` and returns everything that arrived meanwhile. */
  async drain(ms: number): Promise<Received[]> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return this.queue.splice(0);
  }

  /** Closes after every packet handed to send() has left (dgram sends complete asynchronously). */
  async close(): Promise<void> {
    if (this.pending > 0) await new Promise<void>((resolve) => (this.flushed = resolve));
    this.socket.close();
  }
}

export interface ReceiveOptions {
  readonly options?: readonly [string, string][];
  readonly mode?: string;
  /** Simulated loss: return true to lose this incoming DATA (absolute block) or outgoing ACK. */
  readonly drop?: (kind: 'data' | 'ack', block: number) => boolean;
  /** How long the client waits before repeating its last ACK. */
  readonly ackTimeoutMs?: number;
  readonly deadlineMs?: number;
}

export interface ReceiveResult {
  readonly bytes: Buffer;
  readonly oack?: Readonly<Record<string, string>>;
  /** DATA packets that arrived (before simulated loss), duplicates included. */
  readonly dataPackets: number;
  readonly acksSent: number;
  readonly tid: Address;
}

/** Downloads `filename` like EDK2's Mtftp4 client: see the module comment. */
export async function receiveFile(client: RawClient, server: Address, filename: string, settings: ReceiveOptions = {}): Promise<ReceiveResult> {
  const options = settings.options ?? [];
  const ackTimeout = settings.ackTimeoutMs ?? 1000;
  const deadline = performance.now() + (settings.deadlineMs ?? 30_000);
  client.send({ type: 'rrq', filename, mode: settings.mode ?? 'octet', options: options.map(([name, value]) => ({ name, value })) }, server);

  let tid: Address | undefined;
  let blksize = 512;
  let windowsize = 1;
  let oack: Record<string, string> | undefined;
  let expected = 1;
  let sinceAck = 0;
  let dataPackets = 0;
  let acksSent = 0;
  const chunks: Buffer[] = [];
  let lastAck = -1;

  const ack = (block: number): void => {
    lastAck = block;
    sinceAck = 0;
    if (settings.drop?.('ack', block)) return;
    acksSent += 1;
    client.send({ type: 'ack', block: block & 0xffff }, tid!);
  };

  while (performance.now() < deadline) {
    const received = await client.next(ackTimeout, (r) => !tid || (r.from.port === tid.port && r.from.address === tid.address));
    if (!received) {
      if (!tid) client.send({ type: 'rrq', filename, mode: settings.mode ?? 'octet', options: options.map(([name, value]) => ({ name, value })) }, server);
      else if (lastAck >= 0) ack(lastAck);
      continue;
    }
    const { packet } = received;
    tid ??= received.from;
    if (packet.type === 'error') throw new Error(`server error ${packet.code}: ${packet.message}`);
    if (packet.type === 'oack') {
      if (expected !== 1) continue;
      oack = Object.fromEntries(packet.options.map((option) => [option.name, option.value]));
      blksize = Number(oack.blksize ?? 512);
      windowsize = Number(oack.windowsize ?? 1);
      ack(0);
      continue;
    }
    if (packet.type !== 'data') continue;
    dataPackets += 1;
    const before = expected - 1;
    const block = before + ((((packet.block - before) % 0x10000) + 0x10000) % 0x10000);
    if (settings.drop?.('data', block)) continue;
    if (block !== expected) {
      ack(expected - 1);
      continue;
    }
    chunks.push(Buffer.from(packet.data));
    expected += 1;
    sinceAck += 1;
    if (packet.data.length < blksize) {
      ack(block);
      return { bytes: Buffer.concat(chunks), ...(oack ? { oack } : {}), dataPackets, acksSent, tid };
    }
    if (sinceAck >= windowsize) ack(block);
  }
  throw new Error(`download of ${filename} did not finish (at block ${expected})`);
}
