import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Mac } from '../../src/protocol/mac.js';
import type { Lease } from '../../src/servers/dhcp4/lease-pool.js';
import { openLeaseFile, type PersistentLeaseStore } from '../../src/state/lease-file.js';

const dirs: string[] = [];
const stores: PersistentLeaseStore[] = [];
const temp = () => {
  const dir = mkdtempSync(join(tmpdir(), 'pxedeck-leases-'));
  dirs.push(dir);
  return dir;
};
const open = (dir: string, options: Parameters<typeof openLeaseFile>[1] = {}) => {
  const store = openLeaseFile(dir, options);
  stores.push(store);
  return store;
};
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const lease = (n: number, expiresAt = Date.now() + 60_000): Lease => ({
  mac: `52:54:00:00:${(1 + (n >> 8)).toString(16).padStart(2, '0')}:${(n & 255).toString(16).padStart(2, '0')}` as Mac,
  ip: `10.0.${n >> 8}.${n & 255}`,
  state: 'bound',
  expiresAt,
});
/** Leases 1…count put `rounds` times, each round with a later expiry and settled: journal lines to fold. */
const renewInRounds = async (store: PersistentLeaseStore, rounds: number, count: number) => {
  for (let round = 0; round < rounds; round += 1) {
    for (let n = 1; n <= count; n += 1) store.put(lease(n, Date.now() + 60_000 + round));
    await store.settled();
  }
  await store.settled();
};
const ips = (store: PersistentLeaseStore) => store.load().map((entry) => entry.ip);
const journalLines = (dir: string) => readFileSync(join(dir, 'leases.journal'), 'utf8').split('\n').filter(Boolean);

describe('lease file (snapshot and journal, group commit)', () => {
  it('writes the changes of one turn of the event loop in one batch, and calls back only once they are on disk', async () => {
    const dir = temp();
    const store = open(dir);
    const durable: number[] = [];
    for (let n = 1; n <= 50; n += 1) store.put(lease(n), () => durable.push(n));
    expect(durable).toEqual([]);
    await store.settled();
    expect(durable).toHaveLength(50);
    expect(store.stats.batches).toBe(1);
    expect(journalLines(dir)).toHaveLength(50);
    expect(ips(open(dir))).toHaveLength(50);
  });

  it('under a stream of changes starts batches at least the batch interval apart; a lone change after a quiet spell goes at once', async () => {
    const dir = temp();
    const store = open(dir, { batchIntervalMs: 20 });
    const durableAt: number[] = [];
    const start = performance.now();
    store.put(lease(1), () => durableAt.push(performance.now() - start));
    await store.settled();
    // The first change waits for no window: nothing was written before it.
    expect(durableAt[0]).toBeLessThan(20);
    // A change every ~2 ms for ~100 ms: one batch per 20 ms window, not one per change.
    for (let n = 2; n <= 50; n += 1) {
      store.put(lease(n), () => durableAt.push(performance.now() - start));
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await store.settled();
    expect(durableAt).toHaveLength(50);
    expect(store.stats.batches).toBeGreaterThanOrEqual(2);
    expect(store.stats.batches).toBeLessThanOrEqual(1 + Math.ceil((performance.now() - start) / 20) + 1);
    expect(ips(open(dir))).toHaveLength(50);
  });

  it('replays renewals and removals over the snapshot, last change winning', async () => {
    const dir = temp();
    const store = open(dir);
    store.put(lease(1));
    store.put(lease(2));
    await store.settled();
    store.put({ ...lease(1), ip: '10.0.0.99' });
    store.remove(lease(2).mac);
    await store.settled();
    expect(ips(open(dir))).toEqual(['10.0.0.99']);
  });

  it('folds the journal into the snapshot past the line limit, while new changes keep landing', async () => {
    const dir = temp();
    const store = open(dir, { compactLines: 20 });
    await renewInRounds(store, 10, 5);
    expect(store.stats.compactions).toBeGreaterThanOrEqual(1);
    expect(existsSync(join(dir, 'leases.journal.old'))).toBe(false);
    expect(journalLines(dir).length).toBeLessThan(20);
    const reopened = open(dir).load();
    expect(reopened.map((entry) => entry.expiresAt)).toEqual(Array.from({ length: 5 }, () => expect.any(Number)));
    expect(new Set(reopened.map((entry) => entry.expiresAt)).size).toBe(1);
  });

  it('writes a snapshot larger than one slice as one JSON document, one lease a line, every lease in it', async () => {
    const dir = temp();
    const store = open(dir, { compactLines: 20 });
    await renewInRounds(store, 3, 600);
    expect(store.stats.compactions).toBeGreaterThanOrEqual(1);
    const text = readFileSync(join(dir, 'leases.json'), 'utf8');
    const snapshot = JSON.parse(text) as Record<string, unknown[]>;
    expect(Object.values(snapshot)[0]).toHaveLength(600);
    expect(text.split('\n').filter((line) => line.includes('"ip"'))).toHaveLength(600);
    expect(new Set(ips(open(dir)))).toHaveProperty('size', 600);
  });

  it('loads what a crash left: the journal over the snapshot, a torn last line skipped and told', () => {
    const dir = temp();
    writeFileSync(join(dir, 'leases.json'), JSON.stringify({ leases: [lease(1), lease(2)] }));
    writeFileSync(join(dir, 'leases.journal.old'), `${JSON.stringify({ ...lease(1), ip: '10.0.0.50' })}\n`);
    writeFileSync(join(dir, 'leases.journal'), `${JSON.stringify({ removed: lease(2).mac })}\n${JSON.stringify(lease(3))}\n{"mac":"52:54:00:00:01:04","ip":"10.0`);
    const store = open(dir);
    expect(ips(store)).toEqual(['10.0.0.50', '10.0.0.3']);
    expect(store.skipped).toEqual([expect.stringMatching(/leases\.journal line 3: not JSON/)]);
    // The start folded everything into a fresh snapshot: no journal to replay any more.
    expect(existsSync(join(dir, 'leases.journal.old'))).toBe(false);
    expect(readFileSync(join(dir, 'leases.journal'), 'utf8')).toBe('');
  });

  it('skips hand-edited entries that are not leases, and says so', () => {
    const dir = temp();
    writeFileSync(join(dir, 'leases.json'), JSON.stringify({ leases: [{ mac: 'x', ip: 1 }, lease(7, 1)] }));
    const store = open(dir);
    expect(store.load()).toEqual([lease(7, 1)]);
    expect(store.skipped).toEqual([expect.stringMatching(/an entry that is not a lease/)]);
  });

  it('refuses a snapshot that is not JSON, naming the file and the fix', () => {
    const dir = temp();
    writeFileSync(join(dir, 'leases.json'), '{"leases": [');
    expect(() => open(dir)).toThrow(/leases\.json cannot be read .*fix: correct the JSON or delete the file/);
  });

  it('reports a failed write, holds those callbacks back, retries, and recovers with everything on disk', async () => {
    const dir = temp();
    const errors: string[] = [];
    let recovered = 0;
    // The journal on a device that is always full: the kernel answers every write with ENOSPC.
    symlinkSync('/dev/full', join(dir, 'leases.journal'));
    // The first retry comes after the disk has room again (below): one failure, one recovery.
    const store = open(dir, { retryMs: 500, onError: (error, heldBack) => errors.push(`${heldBack}: ${error.message}`), onRecovered: () => (recovered += 1) });
    expect(store.skipped).toEqual([expect.stringMatching(/leases\.journal is not a regular file/)]);
    let firstAcked = false;
    store.put(lease(1), () => (firstAcked = true));
    await expect.poll(() => errors).toEqual([expect.stringMatching(/^1: ENOSPC/)]);
    expect(firstAcked).toBe(false);
    expect(store.stats.heldBack).toBe(1);
    // The disk has room again.
    rmSync(join(dir, 'leases.journal'));
    let secondAcked = false;
    store.put(lease(2), () => (secondAcked = true));
    await expect.poll(() => secondAcked, { timeout: 3000 }).toBe(true);
    expect(recovered).toBe(1);
    expect(firstAcked).toBe(false);
    expect(errors).toHaveLength(1);
    await store.close();
    expect(ips(open(dir))).toEqual(['10.0.0.1', '10.0.0.2']);
  });

  it('writes what is pending on close, synchronously, to a fresh snapshot', async () => {
    const dir = temp();
    const store = open(dir);
    store.put(lease(1));
    store.put(lease(2));
    await store.close();
    expect(JSON.parse(readFileSync(join(dir, 'leases.json'), 'utf8')).leases.map((entry: Lease) => entry.ip)).toEqual(['10.0.0.1', '10.0.0.2']);
  });
});
