// The synchronous path on its own: transfers served by serveSlice on this thread (which blocks), clients
// in a worker thread so that they can answer meanwhile. Loopback only.
import { Worker } from 'node:worker_threads';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { runTransfer, type LocalTransfer, type RunOutcome } from '../../../src/servers/tftp/run-transfer.js';
import { serveSlice } from '../../../src/servers/tftp/synchronous-slices.js';
import { DEFAULT_RETRANSMIT } from '../../../src/servers/tftp/retransmit.js';
import type { Transfer } from '../../../src/servers/tftp/transfer.js';

// Each client: a socket that ACKs every DATA it gets (blocks of 512), skipping the first ACK of block
// `dropAck` once (a lost ACK: the server must retransmit), and, once, sends a stranger's ACK from another
// socket to the server's TID. Posts {port} when bound and {bytes, strangerAnswer} when the last block came.
const CLIENT = `
const { parentPort, workerData } = require('node:worker_threads');
const dgram = require('node:dgram');
const socket = dgram.createSocket('udp4');
const stranger = dgram.createSocket('udp4');
const chunks = [];
let dropped = false;
let strangerAnswer;
let done;
stranger.on('message', (message) => { strangerAnswer = [...message.subarray(0, 4)]; if (done) parentPort.postMessage(done); });
socket.on('message', (message, from) => {
  if (message.readUInt16BE(0) !== 3) return;
  const block = message.readUInt16BE(2);
  if (block === chunks.length + 1) chunks.push(Buffer.from(message.subarray(4)));
  if (block === 2 && !stranger.sent) { stranger.sent = true; stranger.send(Buffer.from([0, 4, 0, 2]), from.port, from.address); }
  if (block === workerData.dropAck && !dropped) { dropped = true; return; }
  socket.send(Buffer.from([0, 4, message[2], message[3]]), from.port, from.address);
  if (message.length - 4 < 512 && block === chunks.length) {
    done = { bytes: Buffer.concat(chunks) };
    if (strangerAnswer) parentPort.postMessage({ ...done, strangerAnswer });
  }
});
Promise.all([new Promise((r) => socket.bind(0, '127.0.0.1', r)), new Promise((r) => stranger.bind(0, '127.0.0.1', r))])
  .then(() => parentPort.postMessage({ port: socket.address().port }));
parentPort.on('message', () => { socket.close(); stranger.close(); });
`;

const workers: Worker[] = [];
afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.terminate()));
});

async function client(dropAck: number): Promise<{ port: number; result: Promise<{ bytes: Uint8Array; strangerAnswer: number[] }> }> {
  const worker = new Worker(CLIENT, { eval: true, workerData: { dropAck } });
  workers.push(worker);
  const port = await new Promise<number>((resolve) => worker.once('message', (message: { port: number }) => resolve(message.port)));
  const result = new Promise<{ bytes: Uint8Array; strangerAnswer: number[] }>((resolve) => worker.on('message', (message) => {
    if ('bytes' in message) resolve(message);
  }));
  return { port, result };
}

/** ACKs that moved a transfer, counted apart when they were handled inside serveSlice. */
const acks = { inside: 0, outside: 0, slicing: false };

function served(transfers: Transfer[]): void {
  acks.slicing = true;
  try {
    serveSlice(transfers, 50);
  } finally {
    acks.slicing = false;
  }
}

function start(content: Buffer, port: number, outcomes: RunOutcome[]): LocalTransfer {
  return runTransfer(
    {
      localAddress: '127.0.0.1',
      peer: { address: '127.0.0.1', port },
      source: { kind: 'memory', content },
      netascii: false,
      blksize: 512,
      windowsize: 1,
      oack: [],
      retransmit: { ...DEFAULT_RETRANSMIT, initialMs: 200 },
      readaheadBytes: 4096,
      segmentation: false,
      progressIntervalMs: 0,
    },
    {
      onProgress: () => {
        if (acks.slicing) acks.inside += 1;
        else acks.outside += 1;
      },
      onFinish: (outcome) => outcomes.push(outcome),
    },
  );
}

describe('serveSlice', () => {
  it('serves several windowsize-1 transfers on a blocked thread: bytes intact, a lost ACK retransmitted, strangers answered', async () => {
    const files = [randomBytes(300_000), randomBytes(123_456)];
    const clients = await Promise.all([client(7), client(40)]);
    const outcomes: RunOutcome[] = [];
    const locals = files.map((content, i) => start(content, clients[i]!.port, outcomes));
    while (locals.some((local) => !local.transfer)) await new Promise((resolve) => setTimeout(resolve, 5));

    Object.assign(acks, { inside: 0, outside: 0 });
    const deadline = Date.now() + 20_000;
    while (outcomes.length < 2 && Date.now() < deadline) {
      served(locals.map((local) => local.transfer!).filter((transfer) => !transfer.isFinished()));
      // The event loop's turn: timers (retransmissions) and reads that went asynchronous.
      await new Promise((resolve) => setTimeout(resolve, 1));
    }

    expect(outcomes.map((outcome) => outcome.kind)).toEqual(['done', 'done']);
    for (const [i, { result }] of clients.entries()) {
      const { bytes, strangerAnswer } = await result;
      expect(Buffer.from(bytes).equals(files[i]!)).toBe(true);
      expect(strangerAnswer).toEqual([0, 5, 0, 5]); // ERROR 5, unknown transfer ID
    }
    // Nearly every ACK was answered inside a slice, with the event loop blocked; the rest came in between
    // (the ACK of a retransmission, which the timer sent from the event loop).
    expect(acks.inside).toBeGreaterThan(0.9 * (acks.inside + acks.outside));
  });

  it('serves a lone transfer with blocking receives and gives the socket back to the event loop', async () => {
    const content = randomBytes(200_000);
    const { port, result } = await client(0);
    const outcomes: RunOutcome[] = [];
    const local = start(content, port, outcomes);
    while (!local.transfer) await new Promise((resolve) => setTimeout(resolve, 5));
    Object.assign(acks, { inside: 0, outside: 0 });
    const deadline = Date.now() + 20_000;
    while (outcomes.length === 0 && Date.now() < deadline) {
      served([local.transfer]);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    expect(outcomes[0]?.kind).toBe('done');
    expect(Buffer.from((await result).bytes).equals(content)).toBe(true);
    expect(acks.inside).toBeGreaterThan(0.9 * (acks.inside + acks.outside));
  });
});
