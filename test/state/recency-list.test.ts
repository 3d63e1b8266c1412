// The registry's order of machines, least recently seen first, kept through the items themselves.
import { describe, expect, it } from 'vitest';
import { RecencyList, type RecencyLinks } from '../../src/state/recency-list.js';

interface Item extends RecencyLinks<Item> {
  readonly name: string;
}

const item = (name: string): Item => ({ name, older: undefined, newer: undefined });
const names = (list: RecencyList<Item>) => Array.from(list, (entry) => entry.name);

describe('RecencyList', () => {
  it('keeps the order items were appended and touched, oldest first', () => {
    const list = new RecencyList<Item>();
    const [a, b, c] = [item('a'), item('b'), item('c')];
    list.append(a);
    list.append(b);
    list.append(c);
    expect(names(list)).toEqual(['a', 'b', 'c']);
    list.touch(a);
    expect(names(list)).toEqual(['b', 'c', 'a']);
    list.touch(a);
    expect(names(list)).toEqual(['b', 'c', 'a']);
    list.touch(c);
    expect(names(list)).toEqual(['b', 'a', 'c']);
    expect(list.oldest).toBe(b);
    expect(list.newest).toBe(c);
    expect(list.size).toBe(3);
  });

  it('removes from either end and the middle, and can be emptied and filled again', () => {
    const list = new RecencyList<Item>();
    const [a, b, c, d] = [item('a'), item('b'), item('c'), item('d')];
    for (const entry of [a, b, c, d]) list.append(entry);
    list.remove(b);
    expect(names(list)).toEqual(['a', 'c', 'd']);
    list.remove(a);
    list.remove(d);
    expect(names(list)).toEqual(['c']);
    expect([list.oldest, list.newest]).toEqual([c, c]);
    list.remove(c);
    expect(names(list)).toEqual([]);
    expect([list.oldest, list.newest, list.size]).toEqual([undefined, undefined, 0]);
    list.append(b);
    expect(names(list)).toEqual(['b']);
    expect(b.older).toBeUndefined();
  });

  it('lets the item just handed out be removed while iterating, as the registry forgets machines', () => {
    const list = new RecencyList<Item>();
    const all = ['a', 'b', 'c', 'd', 'e'].map(item);
    for (const entry of all) list.append(entry);
    const seen: string[] = [];
    for (const entry of list) {
      seen.push(entry.name);
      if (entry.name !== 'e') list.remove(entry);
    }
    expect(seen).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(names(list)).toEqual(['e']);
  });
});
