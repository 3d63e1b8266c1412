/**
 * Full-mode IA_NA addresses: a range on the interface's prefix, keyed by client DUID + IAID (a DHCPv6
 * client may hold several IAs; the MAC is often unknown). Advertised addresses are held briefly, bound
 * leases go through an injected store so a restart never hands an address out twice. Same shape as the
 * DHCPv4 LeasePool, in IPv6 arithmetic.
 */
import ipaddr from '../../protocol/ipaddr.js';
import type { Mac } from '../../protocol/mac.js';

export interface Lease6 {
  readonly duid: string;
  readonly iaid: number;
  readonly ip: string;
  readonly state: 'advertised' | 'bound';
  readonly expiresAt: number;
  readonly mac?: Mac;
}

export interface Lease6Store {
  load(): readonly Lease6[];
  /** Records a bound lease (a new one or its renewal). */
  put(lease: Lease6): void;
  /** The lease of this IA (`duid/iaid`) ended. */
  remove(key: string): void;
  /** Runs `callback` once every lease recorded so far is on disk: a Reply that hands one out waits for it. */
  whenDurable(callback: () => void): void;
}

export interface Lease6PoolOptions {
  readonly first: string;
  readonly last: string;
  readonly validSeconds: number;
  readonly preferredSeconds?: number;
  readonly excluded?: readonly string[];
  readonly advertiseHoldMs?: number;
  readonly declineQuarantineMs?: number;
  readonly store?: Lease6Store;
  readonly now?: () => number;
}

export type Lease6Outcome = { readonly ok: true; readonly lease: Lease6 } | { readonly ok: false; readonly reason: string };

export function ipv6ToBigInt(address: string): bigint {
  return ipaddr.IPv6.parse(address).toByteArray().reduce((value, byte) => (value << 8n) | BigInt(byte), 0n);
}

export function bigIntToIpv6(value: bigint): string {
  const bytes: number[] = [];
  for (let shift = 120n; shift >= 0n; shift -= 8n) bytes.push(Number((value >> shift) & 0xffn));
  return ipaddr.fromByteArray(bytes).toString();
}

export const keyOf = (duid: string, iaid: number) => `${duid}/${iaid}`;
/** Never scan more than this many addresses for a free one: a /64 range must not block the event loop. */
const MAX_SCAN = 4096;

export class Lease6Pool {
  private readonly byKey = new Map<string, Lease6>();
  private readonly byIp = new Map<string, Lease6>();
  private readonly quarantined = new Map<string, number>();
  private readonly first: bigint;
  private readonly last: bigint;
  private readonly excluded: Set<string>;
  private readonly now: () => number;
  private cursor: bigint;

  constructor(private readonly options: Lease6PoolOptions) {
    this.first = ipv6ToBigInt(options.first);
    this.last = ipv6ToBigInt(options.last);
    if (this.first > this.last) throw new RangeError(`pool ${options.first}-${options.last}: the first address is after the last`);
    if (this.first >> 64n !== this.last >> 64n) throw new RangeError(`pool ${options.first}-${options.last} spans more than one /64`);
    this.excluded = new Set((options.excluded ?? []).map((ip) => bigIntToIpv6(ipv6ToBigInt(ip))));
    this.now = options.now ?? Date.now;
    this.cursor = this.first;
    for (const lease of options.store?.load() ?? []) if (lease.state === 'bound' && lease.expiresAt > this.now()) this.remember(lease);
  }

  get validSeconds(): number {
    return this.options.validSeconds;
  }

  get preferredSeconds(): number {
    return this.options.preferredSeconds ?? Math.floor(this.options.validSeconds * 0.625);
  }

  leases(): Lease6[] {
    return [...this.byKey.values()];
  }

  leaseFor(duid: string, iaid: number): Lease6 | undefined {
    const lease = this.byKey.get(keyOf(duid, iaid));
    return lease && lease.expiresAt > this.now() ? lease : undefined;
  }

  inPool(ip: string): boolean {
    let value: bigint;
    try {
      value = ipv6ToBigInt(ip);
    } catch {
      return false;
    }
    return value >= this.first && value <= this.last;
  }

  /** An address for a Solicit, held briefly; null when the pool is exhausted. */
  advertise(duid: string, iaid: number, hint?: string, mac?: Mac): string | null {
    const current = this.leaseFor(duid, iaid);
    if (current) return current.ip;
    const ip = (hint && this.isFree(hint, duid, iaid) ? bigIntToIpv6(ipv6ToBigInt(hint)) : undefined) ?? this.nextFree(duid, iaid);
    if (!ip) return null;
    this.remember({ duid, iaid, ip, state: 'advertised', expiresAt: this.now() + (this.options.advertiseHoldMs ?? 30_000), ...(mac && { mac }) });
    return ip;
  }

  /** Binds (Request) or extends (Renew/Rebind) `ip` for this IA if it is theirs to have. */
  bind(duid: string, iaid: number, ip: string, mac?: Mac): Lease6Outcome {
    if (!this.inPool(ip)) return { ok: false, reason: `${ip} is not in the pool` };
    const normal = bigIntToIpv6(ipv6ToBigInt(ip));
    if (!this.isFree(normal, duid, iaid)) return { ok: false, reason: `${normal} is leased to another client or unavailable` };
    const lease: Lease6 = { duid, iaid, ip: normal, state: 'bound', expiresAt: this.now() + this.options.validSeconds * 1000, ...(mac && { mac }) };
    this.remember(lease);
    this.options.store?.put(lease);
    return { ok: true, lease };
  }

  release(duid: string, iaid: number, ip: string): boolean {
    const lease = this.byKey.get(keyOf(duid, iaid));
    if (!lease || lease.ip !== bigIntToIpv6(ipv6ToBigInt(ip))) return false;
    this.forget(lease);
    return true;
  }

  decline(duid: string, iaid: number, ip: string): boolean {
    const lease = this.byKey.get(keyOf(duid, iaid));
    if (!lease || lease.ip !== bigIntToIpv6(ipv6ToBigInt(ip))) return false;
    this.forget(lease);
    this.quarantined.set(lease.ip, this.now() + (this.options.declineQuarantineMs ?? 10 * 60_000));
    return true;
  }

  private isFree(ip: string, duid: string, iaid: number): boolean {
    if (!this.inPool(ip)) return false;
    const normal = bigIntToIpv6(ipv6ToBigInt(ip));
    if (this.excluded.has(normal)) return false;
    const quarantine = this.quarantined.get(normal);
    if (quarantine !== undefined && quarantine > this.now()) return false;
    const holder = this.byIp.get(normal);
    return !holder || holder.expiresAt <= this.now() || (holder.duid === duid && holder.iaid === iaid);
  }

  private nextFree(duid: string, iaid: number): string | null {
    const size = this.last - this.first + 1n;
    const limit = size < BigInt(MAX_SCAN) ? size : BigInt(MAX_SCAN);
    for (let step = 0n; step < limit; step += 1n) {
      const candidate = bigIntToIpv6(this.cursor);
      this.cursor = this.cursor >= this.last ? this.first : this.cursor + 1n;
      if (this.isFree(candidate, duid, iaid)) return candidate;
    }
    return null;
  }

  /** Runs `callback` once every lease bound so far is on disk (at once without a store). */
  whenDurable(callback: () => void): void {
    if (this.options.store) this.options.store.whenDurable(callback);
    else callback();
  }

  private remember(lease: Lease6): void {
    const key = keyOf(lease.duid, lease.iaid);
    const previous = this.byKey.get(key);
    if (previous) this.byIp.delete(previous.ip);
    const holder = this.byIp.get(lease.ip);
    if (holder && keyOf(holder.duid, holder.iaid) !== key) {
      // Another IA's expired lease of this address: its record goes, on disk too.
      this.byKey.delete(keyOf(holder.duid, holder.iaid));
      if (holder.state === 'bound') this.options.store?.remove(keyOf(holder.duid, holder.iaid));
    }
    this.byKey.set(key, lease);
    this.byIp.set(lease.ip, lease);
  }

  private forget(lease: Lease6): void {
    this.byKey.delete(keyOf(lease.duid, lease.iaid));
    this.byIp.delete(lease.ip);
    if (lease.state === 'bound') this.options.store?.remove(keyOf(lease.duid, lease.iaid));
  }
}
