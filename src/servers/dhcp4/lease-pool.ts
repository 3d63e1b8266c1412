/**
 * Full-mode address allocation: a pool on the interface's subnet, static reservations, offers held
 * briefly, bound leases persisted through an injected store so a restart never hands an address out twice.
 *
 * Nobody on the segment can take the pool from the others (RFC 2131 §4.3.2 read strictly):
 * - a REQUEST binds only an address this MAC was offered, holds, or has reserved: a REQUEST out of nowhere
 *   (no DISCOVER before it) gets nothing;
 * - offers are held `offerHoldMs` (10 s) and at most `maxHeldOffers` at once (half the pool): past that
 *   the oldest offer is taken back, so a DISCOVER flood cycles through half the pool, never all of it;
 * - a DECLINE counts only from the MAC that holds that address of ours, and at most `maxQuarantined`
 *   addresses (a quarter of the pool) sit out at once, the oldest let back first.
 */
import ipaddr from '../../protocol/ipaddr.js';
import type { Mac } from '../../protocol/mac.js';
import { ipv4ToNumber } from '../../protocol/dhcp4/ipv4-address.js';

export interface Lease {
  readonly mac: Mac;
  readonly ip: string;
  readonly state: 'offered' | 'bound';
  readonly expiresAt: number;
  readonly hostname?: string;
}

export interface LeaseStore {
  load(): readonly Lease[];
  /** Records a bound lease; `onDurable` runs once it is on disk (an ACK waits for it). */
  put(lease: Lease, onDurable?: () => void): void;
  /** The MAC's lease ended (released, declined, or its address went to another MAC after it expired). */
  remove(mac: Mac): void;
}

export interface LeasePoolOptions {
  readonly first: string;
  readonly last: string;
  /** The served subnet as CIDR, e.g. 10.77.0.0/24; the pool must lie inside it. */
  readonly subnet: string;
  readonly reservations?: ReadonlyMap<Mac, string>;
  /** Addresses never handed out (ours, the router's). */
  readonly excluded?: readonly string[];
  readonly leaseSeconds: number;
  /** How long an offer holds its address for the REQUEST that should follow. Default 10 s. */
  readonly offerHoldMs?: number;
  /** Offers held at once; the oldest is taken back beyond it. Default half the pool. */
  readonly maxHeldOffers?: number;
  /** How long a DECLINEd address stays out of the pool. Default 10 minutes. */
  readonly declineQuarantineMs?: number;
  /** Addresses in quarantine at once; the oldest is let back beyond it. Default a quarter of the pool. */
  readonly maxQuarantined?: number;
  readonly store?: LeaseStore;
  readonly now?: () => number;
}

export type RequestOutcome =
  | { readonly ok: true; readonly lease: Lease }
  /** `silent`: RFC 2131 wants no answer (a client we hold no record of); otherwise NAK with `reason`. */
  | { readonly ok: false; readonly reason: string; readonly silent?: boolean };

/** How the client's REQUEST names its address (RFC 2131 §4.3.2). */
export type RequestState = 'selecting' | 'init-reboot' | 'renewing';

export const DEFAULT_OFFER_HOLD_MS = 10_000;
export const DEFAULT_DECLINE_QUARANTINE_MS = 10 * 60_000;

export function numberToIpv4(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}

export class LeasePool {
  private readonly byMac = new Map<Mac, Lease>();
  private readonly byIp = new Map<string, Lease>();
  /** Held offers by MAC, oldest first (a Map keeps insertion order). */
  private readonly offers = new Map<Mac, Lease>();
  /** Declined addresses and until when, oldest first. */
  private readonly quarantined = new Map<string, number>();
  private readonly first: number;
  private readonly last: number;
  private readonly subnetBase: number;
  private readonly subnetMask: number;
  private readonly reservedIps: Map<string, Mac>;
  private readonly excluded: Set<string>;
  private readonly now: () => number;
  private readonly maxHeldOffers: number;
  private readonly maxQuarantined: number;
  private cursor: number;

  constructor(private readonly options: LeasePoolOptions) {
    const [network, prefix] = ipaddr.parseCIDR(options.subnet);
    if (network.kind() !== 'ipv4') throw new RangeError(`pool subnet ${options.subnet} is not IPv4`);
    this.subnetMask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    this.subnetBase = (ipv4ToNumber(network.toString()) & this.subnetMask) >>> 0;
    this.first = ipv4ToNumber(options.first);
    this.last = ipv4ToNumber(options.last);
    if (Number.isNaN(this.first) || Number.isNaN(this.last)) throw new RangeError(`pool ${options.first}-${options.last}: not IPv4 addresses`);
    if (this.first > this.last) throw new RangeError(`pool ${options.first}-${options.last}: the first address is after the last`);
    for (const end of [options.first, options.last]) {
      if (!this.onSubnet(end)) throw new RangeError(`pool address ${end} is outside the interface's subnet ${options.subnet}`);
    }
    this.reservedIps = new Map([...(options.reservations ?? [])].map(([mac, ip]) => [ip, mac]));
    this.excluded = new Set(options.excluded ?? []);
    this.now = options.now ?? Date.now;
    this.maxHeldOffers = Math.max(1, options.maxHeldOffers ?? Math.ceil(this.size / 2));
    this.maxQuarantined = Math.max(1, options.maxQuarantined ?? Math.ceil(this.size / 4));
    this.cursor = this.first;
    for (const lease of options.store?.load() ?? []) {
      if (lease.state === 'bound' && lease.expiresAt > this.now()) this.remember(lease);
    }
  }

  get size(): number {
    return this.last - this.first + 1;
  }

  /** Offers held right now (expired ones are dropped on the way). */
  get heldOffers(): number {
    this.dropExpiredOffers();
    return this.offers.size;
  }

  leases(): Lease[] {
    return [...this.byMac.values()];
  }

  leaseFor(mac: Mac): Lease | undefined {
    const lease = this.byMac.get(mac);
    return lease && lease.expiresAt > this.now() ? lease : undefined;
  }

  /** True when this MAC has nothing here: no offer, no lease (even an expired one) and no reservation. */
  isNewClient(mac: Mac): boolean {
    return !this.byMac.has(mac) && !this.options.reservations?.has(mac);
  }

  /** Picks an address for a DISCOVER and holds it briefly; null when the pool is exhausted. */
  offer(mac: Mac, requested?: string): string | null {
    this.dropExpiredOffers();
    const current = this.byMac.get(mac);
    // A client holding a valid lease is offered that lease again, not a second address.
    if (current?.state === 'bound' && current.expiresAt > this.now()) return current.ip;
    if (!this.offers.has(mac) && this.offers.size >= this.maxHeldOffers) this.takeBackOldestOffer();
    const ip = this.choose(mac, requested);
    if (!ip) return null;
    const held: Lease = { mac, ip, state: 'offered', expiresAt: this.now() + (this.options.offerHoldMs ?? DEFAULT_OFFER_HOLD_MS) };
    this.remember(held);
    this.offers.delete(mac);
    this.offers.set(mac, held);
    return ip;
  }

  /**
   * Binds `ip` to `mac` if it is theirs to have: the address offered to them (SELECTING), or the one
   * they hold or have reserved (INIT-REBOOT, RENEWING/REBINDING). `onDurable` runs once the lease is on
   * disk: the ACK goes out then.
   */
  request(mac: Mac, ip: string, state: RequestState, hostname?: string, onDurable?: () => void): RequestOutcome {
    if (!this.onSubnet(ip)) return { ok: false, reason: `${ip} is not on this subnet (${this.options.subnet})` };
    const reservation = this.options.reservations?.get(mac);
    const reservedFor = this.reservedIps.get(ip);
    if (reservedFor && reservedFor !== mac) return { ok: false, reason: `${ip} is reserved for ${reservedFor}` };
    if (reservation && reservation !== ip) return { ok: false, reason: `${mac} is reserved ${reservation}, not ${ip}` };
    const own = this.byMac.get(mac);
    const ours = reservation === ip || (own !== undefined && own.ip === ip && (own.state === 'bound' || own.expiresAt > this.now()));
    if (!ours) {
      if (state === 'selecting') return { ok: false, reason: `no offer of ${ip} on record for ${mac} (it must DISCOVER first)` };
      if (own?.state === 'bound') return { ok: false, reason: `${mac} holds ${own.ip}, not ${ip}` };
      // INIT-REBOOT or RENEWING with a lease we never gave: that lease is another server's business.
      return { ok: false, silent: true, reason: `no lease of ${ip} on record for ${mac}` };
    }
    if (!reservation && !this.inPool(ip)) return { ok: false, reason: `${ip} is outside the pool` };
    if (this.excluded.has(ip)) return { ok: false, reason: `${ip} is excluded from the pool` };
    const holder = this.byIp.get(ip);
    if (holder && holder.mac !== mac && holder.expiresAt > this.now()) return { ok: false, reason: `${ip} is leased to ${holder.mac}` };
    if (this.isQuarantined(ip)) return { ok: false, reason: `${ip} was declined recently` };
    const lease: Lease = { mac, ip, state: 'bound', expiresAt: this.now() + this.options.leaseSeconds * 1000, ...(hostname && { hostname }) };
    this.remember(lease);
    if (this.options.store) this.options.store.put(lease, onDurable);
    else onDurable?.();
    return { ok: true, lease };
  }

  release(mac: Mac, ip: string): boolean {
    const lease = this.byIp.get(ip);
    if (!lease || lease.mac !== mac) return false;
    this.forget(lease);
    return true;
  }

  /**
   * The client found its address in use: keep it out of the pool for a while. Only the MAC that was
   * offered or holds this address of our pool can decline it.
   */
  decline(mac: Mac, ip: string): boolean {
    const lease = this.byIp.get(ip);
    if (!lease || lease.mac !== mac || !this.inPool(ip)) return false;
    this.forget(lease);
    this.quarantined.delete(ip);
    while (this.quarantined.size >= this.maxQuarantined) this.quarantined.delete(this.quarantined.keys().next().value!);
    this.quarantined.set(ip, this.now() + (this.options.declineQuarantineMs ?? DEFAULT_DECLINE_QUARANTINE_MS));
    return true;
  }

  onSubnet(ip: string): boolean {
    const value = ipv4ToNumber(ip);
    return !Number.isNaN(value) && ((value & this.subnetMask) >>> 0) === this.subnetBase;
  }

  private choose(mac: Mac, requested?: string): string | null {
    const reservation = this.options.reservations?.get(mac);
    if (reservation) return reservation;
    const own = this.byMac.get(mac);
    if (own && this.isFreeFor(own.ip, mac)) return own.ip;
    if (requested && this.inPool(requested) && this.isFreeFor(requested, mac)) return requested;
    // Round-robin from a cursor so a released address is not reused at once.
    for (let step = 0; step < this.size; step += 1) {
      const candidate = numberToIpv4(this.cursor);
      this.cursor = this.cursor >= this.last ? this.first : this.cursor + 1;
      if (this.isFreeFor(candidate, mac)) return candidate;
    }
    return null;
  }

  private isFreeFor(ip: string, mac: Mac): boolean {
    if (this.excluded.has(ip) || this.isQuarantined(ip)) return false;
    const reservedFor = this.reservedIps.get(ip);
    if (reservedFor && reservedFor !== mac) return false;
    const holder = this.byIp.get(ip);
    return !holder || holder.mac === mac || holder.expiresAt <= this.now();
  }

  private isQuarantined(ip: string): boolean {
    const until = this.quarantined.get(ip);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    this.quarantined.delete(ip);
    return false;
  }

  private inPool(ip: string): boolean {
    const value = ipv4ToNumber(ip);
    return value >= this.first && value <= this.last;
  }

  private dropExpiredOffers(): void {
    const now = this.now();
    for (const [mac, held] of this.offers) {
      if (held.expiresAt > now) return;
      this.offers.delete(mac);
      if (this.byMac.get(mac) === held) this.forget(held);
    }
  }

  private takeBackOldestOffer(): void {
    const [mac, held] = this.offers.entries().next().value!;
    this.offers.delete(mac);
    if (this.byMac.get(mac) === held) this.forget(held);
  }

  private remember(lease: Lease): void {
    const previous = this.byMac.get(lease.mac);
    if (previous && previous.ip !== lease.ip) {
      if (this.byIp.get(previous.ip) === previous) this.byIp.delete(previous.ip);
      // The MAC's expired lease of another address: on disk only until this new one is.
      if (previous.state === 'bound' && lease.state === 'offered') this.options.store?.remove(lease.mac);
    }
    if (previous?.state === 'offered' && lease.state === 'bound') this.offers.delete(lease.mac);
    const displaced = this.byIp.get(lease.ip);
    if (displaced && displaced.mac !== lease.mac) {
      // An expired lease (or offer) of another MAC: its record goes, on disk too.
      this.byMac.delete(displaced.mac);
      this.offers.delete(displaced.mac);
      if (displaced.state === 'bound') this.options.store?.remove(displaced.mac);
    }
    this.byMac.set(lease.mac, lease);
    this.byIp.set(lease.ip, lease);
  }

  private forget(lease: Lease): void {
    this.byMac.delete(lease.mac);
    this.byIp.delete(lease.ip);
    this.offers.delete(lease.mac);
    if (lease.state === 'bound') this.options.store?.remove(lease.mac);
  }
}
