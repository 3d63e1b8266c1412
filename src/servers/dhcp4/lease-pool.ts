/**
 * Full-mode address allocation: a pool on the interface's subnet, static reservations, offers held
 * briefly, bound leases persisted through an injected store so a restart never hands an address out twice.
 */
import ipaddr from 'ipaddr.js';
import type { Mac } from '../../protocol/mac.js';

export interface Lease {
  readonly mac: Mac;
  readonly ip: string;
  readonly state: 'offered' | 'bound';
  readonly expiresAt: number;
  readonly hostname?: string;
}

export interface LeaseStore {
  load(): readonly Lease[];
  /** Something changed; the store calls `snapshot` when it writes (a burst of changes costs one copy). */
  save(snapshot: () => readonly Lease[]): void;
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
  readonly offerHoldMs?: number;
  /** How long a DECLINEd address stays out of the pool. */
  readonly declineQuarantineMs?: number;
  readonly store?: LeaseStore;
  readonly now?: () => number;
}

export type RequestOutcome =
  | { readonly ok: true; readonly lease: Lease }
  | { readonly ok: false; readonly reason: string };

export function ipv4ToNumber(address: string): number {
  const bytes = ipaddr.IPv4.parse(address).toByteArray();
  return ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
}

export function numberToIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

export class LeasePool {
  private readonly byMac = new Map<Mac, Lease>();
  private readonly byIp = new Map<string, Lease>();
  private readonly quarantined = new Map<string, number>();
  private readonly first: number;
  private readonly last: number;
  private readonly subnet: [ipaddr.IPv4, number];
  private readonly reservedIps: Map<string, Mac>;
  private readonly excluded: Set<string>;
  private readonly now: () => number;
  private cursor: number;

  constructor(private readonly options: LeasePoolOptions) {
    const parsed = ipaddr.parseCIDR(options.subnet);
    if (parsed[0].kind() !== 'ipv4') throw new RangeError(`pool subnet ${options.subnet} is not IPv4`);
    this.subnet = parsed as [ipaddr.IPv4, number];
    this.first = ipv4ToNumber(options.first);
    this.last = ipv4ToNumber(options.last);
    if (this.first > this.last) throw new RangeError(`pool ${options.first}-${options.last}: the first address is after the last`);
    for (const end of [options.first, options.last]) {
      if (!this.inSubnet(end)) throw new RangeError(`pool address ${end} is outside the interface's subnet ${options.subnet}`);
    }
    this.reservedIps = new Map([...(options.reservations ?? [])].map(([mac, ip]) => [ip, mac]));
    this.excluded = new Set(options.excluded ?? []);
    this.now = options.now ?? Date.now;
    this.cursor = this.first;
    for (const lease of options.store?.load() ?? []) {
      if (lease.state === 'bound' && lease.expiresAt > this.now()) this.remember(lease);
    }
  }

  get size(): number {
    return this.last - this.first + 1;
  }

  leases(): Lease[] {
    return [...this.byMac.values()];
  }

  leaseFor(mac: Mac): Lease | undefined {
    const lease = this.byMac.get(mac);
    return lease && lease.expiresAt > this.now() ? lease : undefined;
  }

  /** Picks an address for a DISCOVER and holds it briefly; null when the pool is exhausted. */
  offer(mac: Mac, requested?: string): string | null {
    const ip = this.choose(mac, requested);
    if (!ip) return null;
    const current = this.byMac.get(mac);
    if (current?.state === 'bound' && current.ip === ip) return ip;
    this.remember({ mac, ip, state: 'offered', expiresAt: this.now() + (this.options.offerHoldMs ?? 30_000) });
    return ip;
  }

  /** Binds `ip` to `mac` if it is theirs to have (a REQUEST in SELECTING, INIT-REBOOT, RENEWING). */
  request(mac: Mac, ip: string, hostname?: string): RequestOutcome {
    if (!this.inSubnet(ip)) return { ok: false, reason: `${ip} is not on this subnet (${this.options.subnet})` };
    const reservedFor = this.reservedIps.get(ip);
    if (reservedFor && reservedFor !== mac) return { ok: false, reason: `${ip} is reserved for ${reservedFor}` };
    const reservation = this.options.reservations?.get(mac);
    if (reservation && reservation !== ip) return { ok: false, reason: `${mac} is reserved ${reservation}, not ${ip}` };
    if (!reservation && !this.inPool(ip)) return { ok: false, reason: `${ip} is outside the pool` };
    if (this.excluded.has(ip)) return { ok: false, reason: `${ip} is excluded from the pool` };
    const holder = this.byIp.get(ip);
    if (holder && holder.mac !== mac && holder.expiresAt > this.now()) return { ok: false, reason: `${ip} is leased to ${holder.mac}` };
    if (this.isQuarantined(ip)) return { ok: false, reason: `${ip} was declined recently` };
    const lease: Lease = {
      mac,
      ip,
      state: 'bound',
      expiresAt: this.now() + this.options.leaseSeconds * 1000,
      ...(hostname && { hostname }),
    };
    this.remember(lease);
    this.persist();
    return { ok: true, lease };
  }

  release(mac: Mac, ip: string): boolean {
    const lease = this.byIp.get(ip);
    if (!lease || lease.mac !== mac) return false;
    this.forget(lease);
    this.persist();
    return true;
  }

  /** The client found the address in use: keep it out of the pool for a while. */
  decline(mac: Mac, ip: string): boolean {
    const lease = this.byIp.get(ip);
    if (lease && lease.mac !== mac) return false;
    if (lease) this.forget(lease);
    this.quarantined.set(ip, this.now() + (this.options.declineQuarantineMs ?? 10 * 60_000));
    this.persist();
    return true;
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

  onSubnet(ip: string): boolean {
    return this.inSubnet(ip);
  }

  private inSubnet(ip: string): boolean {
    return ipaddr.IPv4.isValidFourPartDecimal(ip) && ipaddr.IPv4.parse(ip).match(this.subnet);
  }

  private remember(lease: Lease): void {
    const previous = this.byMac.get(lease.mac);
    if (previous && previous.ip !== lease.ip && this.byIp.get(previous.ip) === previous) this.byIp.delete(previous.ip);
    const displaced = this.byIp.get(lease.ip);
    if (displaced && displaced.mac !== lease.mac) this.byMac.delete(displaced.mac);
    this.byMac.set(lease.mac, lease);
    this.byIp.set(lease.ip, lease);
  }

  private forget(lease: Lease): void {
    this.byMac.delete(lease.mac);
    this.byIp.delete(lease.ip);
  }

  private persist(): void {
    this.options.store?.save(() => [...this.byMac.values()].filter((lease) => lease.state === 'bound'));
  }
}
