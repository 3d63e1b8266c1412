/**
 * Who may start a transfer: one slot per client address and port, at most `maxTransfers` in all and
 * `maxPerClient` from one address, so one host (a flood of requests it never acknowledges: each holds its
 * slot through 31 s of retransmissions) cannot take every slot.
 */
import type { FileHandle } from 'node:fs/promises';
import type { RunningTransfer } from './run-transfer.js';

export interface TransferSlot {
  readonly request: Buffer;
  transfer?: RunningTransfer;
  handle?: FileHandle;
  /** A newer request from the same port, or the server closing, replaced it. */
  superseded: boolean;
  /** Frees the slot and its address's count; later calls do nothing. */
  release(): void;
}

export type Claim =
  /** The same request again from the same port: the transfer's own retransmission answers it. */
  | { readonly kind: 'repeat' }
  | { readonly kind: 'refused'; readonly reason: string }
  | { readonly kind: 'claimed'; readonly slot: TransferSlot };

export interface TransferSlots {
  claim(remote: { readonly address: string; readonly port: number }, request: Buffer): Claim;
  readonly size: number;
  all(): TransferSlot[];
  clear(): void;
}

export function createTransferSlots(maxTransfers: number, maxPerClient: number): TransferSlots {
  const slots = new Map<string, TransferSlot>();
  /** Transfers per client address, beside `slots` (keyed by address and port). */
  const perClient = new Map<string, number>();

  return {
    claim(remote, request) {
      const key = `${remote.address}|${remote.port}`;
      const previous = slots.get(key);
      if (previous) {
        // Anything but a repeat from the same port means the client moved on.
        if (!previous.superseded && previous.request.equals(request)) return { kind: 'repeat' };
        previous.superseded = true;
        previous.transfer?.abort('superseded by a new request from the same port');
        slots.delete(key);
      }
      const fromClient = perClient.get(remote.address) ?? 0;
      if (fromClient >= maxPerClient) return { kind: 'refused', reason: `too many transfers from ${remote.address} (${maxPerClient} in progress), try again later` };
      if (slots.size >= maxTransfers) return { kind: 'refused', reason: `server busy: ${maxTransfers} transfers in progress, try again later` };
      let released = false;
      const slot: TransferSlot = {
        request: Buffer.from(request),
        superseded: false,
        release() {
          if (slots.get(key) === slot) slots.delete(key);
          if (released) return;
          released = true;
          const left = (perClient.get(remote.address) ?? 1) - 1;
          if (left > 0) perClient.set(remote.address, left);
          else perClient.delete(remote.address);
        },
      };
      slots.set(key, slot);
      perClient.set(remote.address, fromClient + 1);
      return { kind: 'claimed', slot };
    },
    get size() {
      return slots.size;
    },
    all: () => [...slots.values()],
    clear: () => slots.clear(),
  };
}
