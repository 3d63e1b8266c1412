/**
 * Serving windowsize-1 transfers without the event loop, for a worker thread whose transfers are all at
 * windowsize 1 (transfer-worker.ts decides). Such a transfer is a chain of round trips; what it costs is
 * the time from the ACK's arrival to the next DATA leaving. Through the event loop that is an epoll
 * wake-up, libuv's receive, a JS callback and dgram's send; here it is one receive and one send on the
 * descriptor (net/native-peer.ts), the way tftpd-hpa's process per transfer does it, and for several
 * transfers one poll(2) over all of them, the way dnsmasq does.
 *
 * A slice lasts at most SLICE_MS: then the thread goes back to its event loop, where messages from the
 * main thread (a new transfer, an abort) and timers wait. It also goes back at once when a retransmission
 * is due (the transfer's own timer handles it) or a transfer needs the event loop (a read in flight).
 */
import { ReadableSet } from '../net/native-peer.js';
import type { Transfer } from './transfer.js';

/** What a message from the main thread may wait. Short next to any client's timeout, long next to a round trip. */
export const SLICE_MS = 20;

/** Returns true when it stopped only because the slice ran out (serve again soon); false when the event loop is needed. */
export function serveSlice(transfers: readonly Transfer[], sliceMs = SLICE_MS): boolean {
  const live = transfers.filter((transfer) => !transfer.isFinished());
  if (live.length === 0 || !live.every((transfer) => transfer.canServeSynchronously())) return false;
  return live.length === 1 ? serveOne(live[0]!, sliceMs) : serveMany(live, sliceMs);
}

/** One transfer: a blocking receive is one system call where poll + receive would be two. */
function serveOne(transfer: Transfer, sliceMs: number): boolean {
  const native = transfer.nativePeer!;
  if (!native.beginBlocking()) return false;
  transfer.setSynchronous(true);
  const started = performance.now();
  try {
    for (;;) {
      if (!transfer.canServeSynchronously()) return false;
      const now = performance.now();
      if (now - started >= sliceMs) return true;
      const dueMs = transfer.retransmissionDueInMs(now);
      if (dueMs <= 0) return false;
      // A timeout that rarely changes (setting it is a system call): the slice, or the retransmission due
      // sooner, in steps of 5 ms. Overrunning the slice by a few ms only delays the thread's other business.
      const length = native.receive(Math.min(sliceMs, Math.ceil(dueMs / 5) * 5));
      if (length < 0) return false;
      transfer.handleReceived(length);
    }
  } finally {
    transfer.setSynchronous(false);
    // A finished transfer's socket is closed already: its descriptor is no longer ours to touch.
    if (!transfer.isFinished()) native.endBlocking();
  }
}

const readable = new ReadableSet();

function serveMany(transfers: readonly Transfer[], sliceMs: number): boolean {
  for (const transfer of transfers) transfer.setSynchronous(true);
  const started = performance.now();
  // Rebuilt only when a transfer finishes, not on every wake-up: this loop runs once per datagram.
  let live = transfers;
  let peers = live.map((transfer) => transfer.nativePeer!);
  try {
    for (;;) {
      if (live.some((transfer) => transfer.isFinished())) {
        live = live.filter((transfer) => !transfer.isFinished());
        peers = live.map((transfer) => transfer.nativePeer!);
      }
      if (live.length === 0 || !live.every((transfer) => transfer.canServeSynchronously())) return false;
      const now = performance.now();
      const leftMs = sliceMs - (now - started);
      if (leftMs <= 0) return true;
      let dueMs = leftMs;
      for (const transfer of live) dueMs = Math.min(dueMs, transfer.retransmissionDueInMs(now));
      if (dueMs <= 0) return false;
      if (readable.wait(peers, dueMs) < 0) return false;
      for (let i = 0; i < live.length; i += 1) {
        // An earlier one's handling cannot close this one's socket; but it may have finished itself.
        if (!readable.readable(i) || live[i]!.isFinished()) continue;
        // -1: nothing after all, or an error the socket reported (an ICMP unreachable), now collected.
        const length = peers[i]!.receiveNow();
        if (length >= 0) live[i]!.handleReceived(length);
      }
    }
  } finally {
    for (const transfer of transfers) transfer.setSynchronous(false);
  }
}
