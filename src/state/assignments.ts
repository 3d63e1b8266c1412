/**
 * Per-machine assignments (profile or menu, once, hold, variables), persisted in assignments.json
 * (conf-file.ts). Another pxedeck process (`pxedeck assign` from a shell) writes the same file; the running
 * one watches it and picks the change up for the machine's next request.
 */
import { watch, type FSWatcher } from 'node:fs';
import type { Assignment, BootTarget } from '../boot/boot-target.js';
import { parseMac, type Mac } from '../protocol/mac.js';
import { openConfFile } from './conf-file.js';

export interface AssignmentStore {
  readonly path: string;
  get(mac: Mac): Assignment | undefined;
  all(): ReadonlyMap<Mac, Assignment>;
  assign(mac: Mac, target: BootTarget, options?: { once?: boolean; variables?: Record<string, string>; pxelinux?: 'chain-ipxe' | 'direct' }): Assignment;
  update(mac: Mac, change: (current: Assignment | undefined) => Assignment | undefined): Assignment | undefined;
  hold(mac: Mac): Assignment;
  release(mac: Mac): Assignment;
  /** Marks a `once` assignment as done: the machine boots locally from now on. */
  consumeOnce(mac: Mac, at: number): void;
  /** Starts following changes other processes make; returns a stop function. */
  follow(onChange: (mac: Mac | undefined) => void): () => void;
}

const targetKinds = new Set(['profile', 'menu', 'local', 'hold', 'ignore', 'inline', 'script']);

/** Drops what cannot be an assignment, so a hand edit cannot crash a boot. */
function sanitize(raw: unknown): Assignment | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const value = raw as Record<string, unknown>;
  const target = value.target as Record<string, unknown> | undefined;
  const validTarget = target && typeof target === 'object' && targetKinds.has(String(target.kind)) ? (target as unknown as BootTarget) : undefined;
  const variables =
    typeof value.variables === 'object' && value.variables !== null
      ? Object.fromEntries(Object.entries(value.variables).filter(([, v]) => typeof v === 'string')) as Record<string, string>
      : undefined;
  return {
    ...(validTarget && { target: validTarget }),
    ...(value.held === true && { held: true }),
    ...(value.released === true && { released: true }),
    ...(value.once === true && { once: true }),
    ...(typeof value.consumedAt === 'number' && { consumedAt: value.consumedAt }),
    ...(variables && { variables }),
    ...((value.pxelinux === 'direct' || value.pxelinux === 'chain-ipxe') && { pxelinux: value.pxelinux }),
    ...(typeof value.assignedAt === 'number' && { assignedAt: value.assignedAt }),
  };
}

export function openAssignments(dataDir: string, now: () => number = Date.now): AssignmentStore {
  const conf = openConfFile<Record<string, unknown>>(dataDir, 'assignments', {});
  let cache = new Map<Mac, Assignment>();
  const reload = () => {
    const fresh = new Map<Mac, Assignment>();
    for (const [key, value] of Object.entries(conf.store)) {
      const mac = parseMac(key);
      const assignment = sanitize(value);
      if (mac && assignment) fresh.set(mac, assignment);
    }
    cache = fresh;
  };
  reload();
  const write = (mac: Mac, assignment: Assignment | undefined) => {
    if (assignment) {
      cache.set(mac, assignment);
      conf.set(mac, assignment);
    } else {
      cache.delete(mac);
      conf.delete(mac);
    }
  };
  const store: AssignmentStore = {
    path: conf.path,
    get: (mac) => cache.get(mac),
    all: () => cache,
    assign(mac, target, options = {}) {
      const assignment: Assignment = {
        target,
        assignedAt: now(),
        ...(options.once && { once: true }),
        ...(options.variables && Object.keys(options.variables).length > 0 && { variables: options.variables }),
        ...(options.pxelinux && { pxelinux: options.pxelinux }),
      };
      write(mac, assignment);
      return assignment;
    },
    update(mac, change) {
      const next = change(cache.get(mac));
      write(mac, next);
      return next;
    },
    hold: (mac) => store.update(mac, (current) => ({ ...current, held: true }))!,
    release: (mac) => store.update(mac, (current) => ({ ...current, held: false, released: true }))!,
    consumeOnce(mac, at) {
      const current = cache.get(mac);
      if (current?.once && current.consumedAt === undefined) write(mac, { ...current, consumedAt: at });
    },
    follow(onChange) {
      let watcher: FSWatcher | undefined;
      let timer: NodeJS.Timeout | undefined;
      try {
        // The file is replaced by a rename (conf-file.ts writes atomically), so watch the directory and debounce.
        watcher = watch(dataDir, (_event, name) => {
          if (name !== 'assignments.json') return;
          clearTimeout(timer);
          timer = setTimeout(() => {
            const before = new Map(cache);
            reload();
            const changed = [...new Set([...before.keys(), ...cache.keys()])].filter((mac) => JSON.stringify(before.get(mac)) !== JSON.stringify(cache.get(mac)));
            if (changed.length === 0) return;
            for (const mac of changed) onChange(mac);
          }, 50);
        });
      } catch {
        return () => undefined;
      }
      return () => {
        clearTimeout(timer);
        watcher?.close();
      };
    },
  };
  return store;
}
