/**
 * Which machine an address, SMBIOS UUID or DHCPv6 DUID last belonged to: events that name no MAC (an HTTP
 * request, a syslog line, a MAC-less DHCPv6 exchange) fold into that machine's record.
 *
 * Bounded with the registry: each machine keeps its latest few keys (a laptop moving between addresses drops
 * the oldest), and a machine the registry forgets takes the keys that still point at it along.
 */
import type { Mac } from '../protocol/mac.js';

export type ClientKey = `ip ${string}` | `uuid ${string}` | `duid ${string}`;

/** Addresses, UUIDs and DUIDs remembered per machine; a machine rarely has more than two or three. */
export const KEYS_PER_MACHINE = 8;

export class ClientKeys {
  private readonly owner = new Map<ClientKey, Mac>();
  private readonly keysOf = new Map<Mac, ClientKey[]>();

  link(mac: Mac, key: ClientKey): void {
    const keys = this.keysOf.get(mac);
    if (!keys) {
      // An array of exactly one: `[]` and a push would reserve room for 17 keys, for every machine a burst brings.
      this.owner.set(key, mac);
      this.keysOf.set(mac, [key]);
      return;
    }
    // Most events repeat the machine's newest key (its address): nothing to move, unless another took it since.
    if (keys[keys.length - 1] === key && this.owner.get(key) === mac) return;
    this.owner.set(key, mac);
    const index = keys.indexOf(key);
    if (index !== -1) keys.splice(index, 1);
    keys.push(key);
    if (keys.length > KEYS_PER_MACHINE) this.release(mac, keys.shift()!);
  }

  find(key: ClientKey): Mac | undefined {
    return this.owner.get(key);
  }

  forget(mac: Mac): void {
    for (const key of this.keysOf.get(mac) ?? []) this.release(mac, key);
    this.keysOf.delete(mac);
  }

  /** Keys held in all; for tests and the memory bound. */
  get size(): number {
    return this.owner.size;
  }

  private release(mac: Mac, key: ClientKey): void {
    if (this.owner.get(key) === mac) this.owner.delete(key);
  }
}
