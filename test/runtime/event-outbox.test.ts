// How far the console may fall behind the servers: the outbox's bound, counted in events, with what it says after.
import { describe, expect, it } from 'vitest';
import { serialiseEvent, type StoredEvent } from '../../src/servers/event-json.js';
import { EventOutbox, leftOutNotice } from '../../src/runtime/event-outbox.js';
import { readEventBatch } from '../../src/runtime/event-batch.js';
import type { PxedeckEvent } from '../../src/servers/events.js';

const event = (index: number): StoredEvent => serialiseEvent({ kind: 'notice', time: 1_796_392_946_000 + index, source: 'system', level: 'info', message: `event ${index}` });

function messagesOf(outbox: EventOutbox): string[] {
  const taken = outbox.take();
  const messages: string[] = [];
  if (taken) readEventBatch(taken.batch, (read: PxedeckEvent) => messages.push(read.kind === 'notice' ? read.message : read.kind));
  return messages;
}

describe('the event outbox', () => {
  it('passes every event while the console keeps up, and says nothing', () => {
    const outbox = new EventOutbox(10, () => 5);
    for (let round = 0; round < 5; round += 1) {
      for (let index = 0; index < 8; index += 1) expect(outbox.add(event(round * 8 + index))).toBe(true);
      expect(messagesOf(outbox)).toHaveLength(8);
      outbox.folded(8);
    }
    expect(outbox.take()).toBeUndefined();
  });

  it('leaves events out past the bound, and once the console is halfway back tells it how many, once', () => {
    const outbox = new EventOutbox(10, () => 5);
    for (let index = 0; index < 10; index += 1) outbox.add(event(index));
    expect(messagesOf(outbox)).toHaveLength(10);
    // The console has folded none of them: the next 7 wait nowhere.
    for (let index = 10; index < 17; index += 1) expect(outbox.add(event(index))).toBe(false);
    expect(outbox.take()).toBeUndefined();
    outbox.folded(4);
    // 6 still in flight, more than half the bound: no notice yet.
    expect(outbox.take()).toBeUndefined();
    outbox.folded(1);
    expect(messagesOf(outbox)).toEqual([leftOutNotice(7, 10)]);
    expect(leftOutNotice(7, 10)).toMatch(/fell 10 events behind the servers and left 7 out; the event log has every one/);
    outbox.folded(6);
    expect(outbox.add(event(17))).toBe(true);
    expect(messagesOf(outbox)).toEqual(['event 17']);
  });

  it('counts the events queued but not yet taken against the bound', () => {
    const outbox = new EventOutbox(3);
    expect([outbox.add(event(0)), outbox.add(event(1)), outbox.add(event(2)), outbox.add(event(3))]).toEqual([true, true, true, false]);
    expect(outbox.pending).toBe(3);
  });
});
