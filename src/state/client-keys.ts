/**
 * Which machine an address, SMBIOS UUID or DHCPv6 DUID last belonged to: events that name no MAC (an HTTP
 * request, a syslog line, a MAC-less DHCPv6 exchange) fold into that machine's record.
 *
 * Bounded with the registry: each machine keeps its latest few keys (a laptop moving between addresses drops
 * the oldest), and a machine the registry forgets takes the keys that still point at it along. The list of a
 * machine's keys is kept by the caller beside the machine's record (one entry per machine, registry.ts), and
 * a key is its kind and its value as the event carries it: an event that repeats a machine's newest key (most
 * do: its address) builds no string and changes no map.
 */
import type { Mac } from '../protocol/mac.js';

export type ClientKeyKind = 'ip' | 'uuid' | 'duid';

export interface ClientKey {
  readonly kind: ClientKeyKind;
  readonly value: string;
}

/** Addresses, UUIDs and DUIDs remembered per machine; a machine rarely has more than two or three. */
export const KEYS_PER_MACHINE = 8;

/** Whatever keeps a machine's keys, newest last (the registry's entry for the machine). */
export interface KeyHolder {
  keys: readonly ClientKey[];
  /** The list of the machine this holder served before, kept by `forget` for the next one's first key. */
  spareKeys: ClientKey[] | undefined;
}

/** A machine without keys yet: shared, never changed. */
export const NO_KEYS: readonly ClientKey[] = Object.freeze([]);

export class ClientKeys {
  private readonly owners: Readonly<Record<ClientKeyKind, Map<string, Mac>>> = { ip: new Map(), uuid: new Map(), duid: new Map() };

  link(mac: Mac, holder: KeyHolder, kind: ClientKeyKind, value: string): void {
    const owner = this.owners[kind];
    const newest = holder.keys[holder.keys.length - 1];
    if (newest !== undefined && newest.kind === kind && newest.value === value && owner.get(value) === mac) return;
    owner.set(value, mac);
    if (holder.keys.length === 0) {
      holder.keys = this.firstKey(holder, kind, value);
      return;
    }
    // Only the frozen NO_KEYS is shared; a list with keys was made above, so it is this class's to change.
    const held = holder.keys as ClientKey[];
    const index = held.findIndex((key) => key.kind === kind && key.value === value);
    if (index !== -1) held.splice(index, 1);
    held.push({ kind, value });
    if (held.length > KEYS_PER_MACHINE) this.release(mac, held.shift()!);
  }

  find(kind: ClientKeyKind, value: string): Mac | undefined {
    return this.owners[kind].get(value);
  }

  /**
   * The machine is forgotten: its keys that still point at it go. With `keepList` the holder will serve a new
   * machine (registry.ts), and keeps its list and first key object for that machine's first key.
   */
  forget(mac: Mac, holder: KeyHolder, keepList = false): void {
    for (const key of holder.keys) this.release(mac, key);
    if (keepList && holder.keys !== NO_KEYS) holder.spareKeys = holder.keys as ClientKey[];
    holder.keys = NO_KEYS;
  }

  /** Keys held in all; for tests and the memory bound. */
  get size(): number {
    return this.owners.ip.size + this.owners.uuid.size + this.owners.duid.size;
  }

  /** A list holding one key: the holder's spare list written over, else a new one. */
  private firstKey(holder: KeyHolder, kind: ClientKeyKind, value: string): ClientKey[] {
    const spare = holder.spareKeys;
    // An array of exactly one: `[]` and a push would reserve room for 17 keys, for every machine a burst brings.
    if (!spare) return [{ kind, value }];
    holder.spareKeys = undefined;
    spare.length = 1;
    // Key objects never leave this class and the holder: nobody else can see this one change.
    const key = spare[0] as { kind: ClientKeyKind; value: string };
    key.kind = kind;
    key.value = value;
    return spare;
  }

  private release(mac: Mac, key: ClientKey): void {
    const owner = this.owners[key.kind];
    if (owner.get(key.value) === mac) owner.delete(key.value);
  }
}
