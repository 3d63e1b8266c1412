/**
 * Items in the order they were last touched, oldest first, linked through the items themselves: touching one
 * moves it to the newest end without changing any map. The registry keeps its machines in one: before, a Map's
 * delete-and-set per event kept that order, and each of those left a hole that a later rehash of the whole
 * table (tens of KB, promoted) had to sweep up, thousands of times a second under a DHCP burst.
 */
export interface RecencyLinks<T> {
  older: T | undefined;
  newer: T | undefined;
}

export class RecencyList<T extends RecencyLinks<T>> implements Iterable<T> {
  private head: T | undefined;
  private tail: T | undefined;
  private count = 0;

  get size(): number {
    return this.count;
  }

  get oldest(): T | undefined {
    return this.head;
  }

  get newest(): T | undefined {
    return this.tail;
  }

  /** Adds `item`, not in the list yet, at the newest end. */
  append(item: T): void {
    item.older = this.tail;
    item.newer = undefined;
    if (this.tail) this.tail.newer = item;
    else this.head = item;
    this.tail = item;
    this.count += 1;
  }

  /** Takes `item`, which is in the list, out of it. */
  remove(item: T): void {
    if (item.older) item.older.newer = item.newer;
    else this.head = item.newer;
    if (item.newer) item.newer.older = item.older;
    else this.tail = item.older;
    item.older = undefined;
    item.newer = undefined;
    this.count -= 1;
  }

  /** Moves `item`, which is in the list, to the newest end. */
  touch(item: T): void {
    if (item === this.tail) return;
    this.remove(item);
    this.append(item);
  }

  /** Oldest first. Removing the item just handed out is safe; other changes while iterating are not. */
  *[Symbol.iterator](): Iterator<T> {
    let item = this.head;
    while (item) {
      const next: T | undefined = item.newer;
      yield item;
      item = next;
    }
  }
}
