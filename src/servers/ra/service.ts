/**
 * Router advertisements on the served segment. Firmware only starts DHCPv6 after an RA with the M/O flags
 * (OVMF never does without one; iPXE waits ~13 s), and a bench switch often has no router. So: ask first
 * (a router solicitation, then listen ~3 s); if a router answers, report it and stay quiet — its RA is the
 * segment's truth. Otherwise advertise ourselves with the managed/other flags and the interface's prefixes,
 * every ~10 s and at once to each solicitation.
 *
 * Router lifetime: 0 by default — nobody routes through us. A non-zero one (full DHCP on an isolated bench)
 * makes us the hosts' default router, which OVMF's PXEv6 waits up to 10 s for after its DHCPv6 Reply; such
 * RAs carry the low preference (RFC 4191), so hosts prefer any real router, and when we stop advertising
 * (pxedeck closing, or yielding to another advertiser) we send one final RA with lifetime 0 (RFC 4861 §6.2.5)
 * so hosts drop us as their default router at once instead of when the lifetime runs out. The final RA
 * carries no prefixes, and when we yield the flags of the advertiser we yield to: hosts take the flags of
 * the latest RA, and ours must not override its. A zero-lifetime stop sends nothing: every RA of ours
 * already had lifetime 0, and one more would only re-assert our M/O flags over the router's.
 *
 * Should another advertiser show up while we advertise, of the two exactly one keeps going, by rank then MAC:
 * a real router (lifetime > 0, preference medium or high) outranks a pxedeck with a lifetime (lifetime > 0,
 * low preference), which outranks a zero-lifetime advertiser (another pxedeck in proxy mode); of equal
 * rank the lower MAC keeps advertising. Both sides apply the same order, so two pxedecks never both stop
 * (and then both start again) nor both go on. While listening we defer to any advertiser: whoever
 * advertises first keeps the segment.
 * Should the router leave — its lifetime runs out without a new RA (see router-table.ts for how long a
 * zero-lifetime advertiser counts), or it withdraws with lifetime 0 — we ask again as at the start and take
 * over if nobody answers: a bench router unplugged must not leave the bench without RAs.
 *
 * Events are bounded: ra.router-seen once per router and flag set, ra.router-gone once per departure,
 * ra.sent per answered solicitation (which is rate-limited), per final RA and at most once a minute for the
 * periodic ones; ra.started when we begin, and again (with the new prefixes) when the interface's change.
 */
import { decode, encode, prefixesOf, sourceLinkLayerOf, type RouterAdvert, type RouterPreference } from '../../protocol/icmpv6/router-discovery.js';
import type { Mac } from '../../protocol/mac.js';
import type { Emit } from '../events.js';
import { handleGuarded, reportDropped } from '../net/datagram-guard.js';
import { ALL_NODES, ALL_ROUTERS, openRouterDiscoverySocket, type Icmp6Socket } from './icmpv6-socket.js';
import { advertOf, finalAdvertBytes, solicitationBytes, textsOf, type AdvertContent, type AdvertisedPrefix } from './our-advert.js';
import { RA_INTERVAL_MS, RA_JITTER, routerLifetimeProblem } from './router-lifetime.js';
import { RouterTable, type HeardAdvert, type TrackedRouter } from './router-table.js';

export { prefixesFromAddresses, type AdvertisedPrefix } from './our-advert.js';

export interface RouterAdvertOptions {
  readonly interfaceName: string;
  /** The interface's MAC: the source link-layer option, and the tie-break against another zero-lifetime advertiser. */
  readonly mac: Mac;
  readonly prefixes: readonly AdvertisedPrefix[];
  /** M flag: addresses from DHCPv6 (true when our DHCPv6 server has a pool). Default true. */
  readonly managed?: boolean;
  /** O flag: other configuration (boot file URL, DNS) from DHCPv6. Default true. */
  readonly other?: boolean;
  /** Seconds hosts may use us as default router: 0 (the default) or 11–9000 (see router-lifetime.ts). */
  readonly routerLifetime?: number;
  readonly listenMs?: number;
  readonly intervalMs?: number;
  readonly pollMs?: number;
  /** How long a zero-lifetime advertiser counts after its last RA. Default: three of our intervals. */
  readonly zeroLifetimeHoldMs?: number;
  readonly validLifetime?: number;
  readonly preferredLifetime?: number;
  /** Replaceable for tests of the decision logic without a raw socket. */
  readonly openSocket?: (device: string) => Icmp6Socket;
  readonly emit: Emit;
  readonly signal?: AbortSignal;
  readonly now?: () => number;
}

export type RouterAdvertState = 'listening' | 'advertising' | 'deferring' | 'closed';

/** A router heard on the segment, as the service reports it. */
export interface SeenRouter extends HeardAdvert {
  readonly lastSeen: number;
}

export interface RouterAdvertService {
  state(): RouterAdvertState;
  routers(): readonly SeenRouter[];
  /** The interface's prefixes changed: advertise these from now on (at once while advertising). */
  setPrefixes(prefixes: readonly AdvertisedPrefix[]): void;
  readonly stats: { sent: number; solicitationsAnswered: number; received: number; malformed: number };
  close(): Promise<void>;
}

const PERIODIC_EVENT_MS = 60_000;
/** Answers to solicitations per second, at most: a flood of RSs must not become a flood of RAs. */
const SOLICITED_PER_SECOND = 20;

/** 2 a real router, 1 a pxedeck with a lifetime (low preference), 0 a zero-lifetime advertiser. */
function rankOf(routerLifetime: number, preference: RouterPreference): number {
  if (routerLifetime === 0) return 0;
  return preference === 'low' ? 1 : 2;
}

export async function createRouterAdvertService(options: RouterAdvertOptions): Promise<RouterAdvertService> {
  const now = options.now ?? Date.now;
  const { emit, interfaceName: iface } = options;
  const managed = options.managed ?? true;
  const other = options.other ?? true;
  const listenMs = options.listenMs ?? 3000;
  const intervalMs = options.intervalMs ?? RA_INTERVAL_MS;
  const routerLifetime = options.routerLifetime ?? 0;
  const lifetimeProblem = routerLifetimeProblem(routerLifetime, intervalMs);
  if (lifetimeProblem) throw new RangeError(`router lifetime ${routerLifetime}: ${lifetimeProblem}`);
  // RFC 4191 §2.2: a zero-lifetime RA must say medium.
  const preference: RouterPreference = routerLifetime > 0 ? 'low' : 'medium';
  const ownRank = rankOf(routerLifetime, preference);
  const validLifetime = options.validLifetime ?? 3600;
  const preferredLifetime = options.preferredLifetime ?? Math.min(1800, validLifetime);
  const socket = (options.openSocket ?? openRouterDiscoverySocket)(iface);
  const stats = { sent: 0, solicitationsAnswered: 0, received: 0, malformed: 0 };
  const table = new RouterTable({ zeroLifetimeHoldMs: options.zeroLifetimeHoldMs ?? 3 * intervalMs });
  let state: RouterAdvertState = 'listening';
  /** Tells a listen's timers from those of an earlier listen that ended early. */
  let listenRound = 0;
  let advertRound = 0;
  let lastWithdrawal: string | undefined;
  let periodicSinceEvent = 0;
  let lastPeriodicEventAt = 0;
  let solicitedWindow = { start: 0, count: 0 };
  const timers = new Set<NodeJS.Timeout>();

  const content: AdvertContent = { mac: options.mac, managed, other, preference, routerLifetime, validLifetime, preferredLifetime };
  // Replaced when the interface's addresses change (setPrefixes).
  let advertBytes = encode(advertOf(content, options.prefixes));
  let prefixTexts = textsOf(options.prefixes);
  const solicitBytes = solicitationBytes(options.mac);
  const base = { source: 'ra' as const, interface: iface };
  const guard = { source: 'ra' as const, emit, now, countDropped: () => (stats.malformed += 1) };

  function schedule(ms: number, run: () => void): void {
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (state !== 'closed') run();
    }, ms);
    timer.unref();
    timers.add(timer);
  }

  function trySend(bytes: Buffer, destination: string): boolean {
    try {
      socket.send(bytes, destination);
      return true;
    } catch (error) {
      emit({ kind: 'server.error', time: now(), source: 'ra', server: 'ra', message: (error as Error).message });
      return false;
    }
  }

  function advertise(destination: string): boolean {
    const sent = trySend(advertBytes, destination);
    if (sent) stats.sent += 1;
    return sent;
  }

  function periodic(round: number): void {
    // A timer left from an earlier stretch of advertising must not start a second cadence beside this one.
    if (state !== 'advertising' || round !== advertRound) return;
    if (advertise(ALL_NODES)) periodicSinceEvent += 1;
    if (now() - lastPeriodicEventAt >= PERIODIC_EVENT_MS) {
      emit({ kind: 'ra.sent', time: now(), ...base, managed, other, routerLifetime, prefixes: prefixTexts, reason: `periodic to ${ALL_NODES} (${periodicSinceEvent} since the last report)` });
      periodicSinceEvent = 0;
      lastPeriodicEventAt = now();
    }
    // Jitter so two advertisers never lock into step (RFC 4861 §6.2.4).
    schedule(intervalMs * (1 - RA_JITTER + Math.random() * 2 * RA_JITTER), () => periodic(round));
  }

  function startAdvertising(reason: string): void {
    state = 'advertising';
    emit({ kind: 'ra.started', time: now(), ...base, managed, other, routerLifetime, prefixes: prefixTexts, reason });
    lastPeriodicEventAt = now();
    periodic(++advertRound);
  }

  /**
   * Hosts took us as their default router (lifetime > 0): one final RA tells them to drop us. `flags`: those
   * the segment should be left with. Returns what the stop event says about it.
   */
  function withdraw(flags: { managed: boolean; other: boolean }, why: string, report: 'server-error' | 'in-reason'): string {
    if (routerLifetime === 0) return '';
    try {
      socket.send(finalAdvertBytes(content, flags), ALL_NODES);
    } catch (error) {
      const message = `final router advertisement not sent: ${(error as Error).message}`;
      if (report === 'server-error') emit({ kind: 'server.error', time: now(), source: 'ra', server: 'ra', message });
      return `; ${message} (hosts keep pxedeck as default router up to ${routerLifetime} s)`;
    }
    stats.sent += 1;
    emit({ kind: 'ra.sent', time: now(), ...base, ...flags, routerLifetime: 0, prefixes: [], reason: `final to ${ALL_NODES} (${why}): hosts drop pxedeck as default router` });
    return '; sent a final RA with router lifetime 0';
  }

  function stopAdvertising(reason: string, flags: { managed: boolean; other: boolean }): void {
    state = 'deferring';
    const final = withdraw(flags, 'yielding', 'server-error');
    emit({ kind: 'ra.stopped', time: now(), ...base, reason: `${reason}${final}` });
  }

  function reportGone(routers: readonly TrackedRouter[], reason: string): void {
    for (const router of routers) emit({ kind: 'ra.router-gone', time: now(), ...base, router: router.address, reason });
  }

  /** Solicit (twice, half a listen apart) and advertise ourselves if no router has answered after `listenMs`. */
  function listen(departure?: string): void {
    state = 'listening';
    const round = ++listenRound;
    // Ask rather than wait: routers advertise unsolicited only every 200–600 s, but answer a solicitation in ≤ 0.5 s.
    trySend(solicitBytes, ALL_ROUTERS);
    schedule(Math.floor(listenMs / 2), () => {
      if (state === 'listening' && round === listenRound) trySend(solicitBytes, ALL_ROUTERS);
    });
    schedule(listenMs, () => {
      if (round !== listenRound) return;
      poll();
      if (state !== 'listening') return;
      reportGone(table.expire(now()), `no router advertisement within its lifetime, nor an answer to ${ALL_ROUTERS}`);
      const silence = `no router answered within ${listenMs} ms`;
      startAdvertising(departure ? `${departure}; ${silence}` : silence);
    });
  }

  /** Routers whose time ran out: reported at once, except the last one we defer to — that one we ask after first. */
  function checkRouters(): void {
    const at = now();
    if (state === 'advertising') reportGone(table.expire(at), 'its router lifetime ran out');
    if (state !== 'deferring') return;
    if (table.live(at).length > 0) {
      reportGone(table.expire(at), 'its router lifetime ran out');
      return;
    }
    const lapsed = table.known().map((router) => `router ${router.address}`);
    listen(lapsed.length > 0 ? `the router lifetime of ${lapsed.join(', ')} ran out` : (lastWithdrawal ?? 'the router left'));
  }

  function onAdvert(message: RouterAdvert, from: string): void {
    const mac = sourceLinkLayerOf(message);
    if (mac === options.mac) return; // our own, should the kernel loop it back after all
    const prefixes = prefixesOf(message).map((prefix) => `${prefix.prefix}/${prefix.prefixLength}`);
    const heard = table.heard({ address: from, ...(mac && { mac }), managed: message.managed, other: message.other, routerLifetime: message.routerLifetime, prefixes }, now());
    if (heard.kind === 'new' || heard.kind === 'changed') {
      // No `mac` on the event: the registry would fold the router into a client row.
      emit({ kind: 'ra.router-seen', time: now(), ...base, router: from, managed: message.managed, other: message.other, routerLifetime: message.routerLifetime, prefixes });
    }
    if (heard.kind === 'withdrew') {
      lastWithdrawal = `router ${from} withdrew (router lifetime 0)`;
      emit({ kind: 'ra.router-gone', time: now(), ...base, router: from, reason: 'it advertised router lifetime 0' });
    }
    if (heard.kind === 'withdrew' || heard.kind === 'ignored') return;
    if (state === 'listening') {
      state = 'deferring';
    } else if (state === 'advertising') {
      // See the top of this file: one order on both sides. Without a MAC to compare, the other one wins.
      const theirRank = rankOf(message.routerLifetime, message.preference);
      const yields = theirRank > ownRank || (theirRank === ownRank && (!mac || mac < options.mac));
      if (yields) stopAdvertising(`router ${from} advertises on ${iface}`, { managed: message.managed, other: message.other });
    }
  }

  function onSolicit(from: string): void {
    if (state !== 'advertising') return;
    const at = now();
    if (at - solicitedWindow.start >= 1000) solicitedWindow = { start: at, count: 0 };
    if (solicitedWindow.count >= SOLICITED_PER_SECOND) return;
    solicitedWindow.count += 1;
    // Unicast to the asker when it has an address (RFC 4861 §6.2.6 allows it): no 3 s multicast spacing to respect.
    const destination = from === '::' ? ALL_NODES : from;
    if (!advertise(destination)) return;
    stats.solicitationsAnswered += 1;
    emit({ kind: 'ra.sent', time: at, ...base, ...(from !== '::' && { ip: from }), managed, other, routerLifetime, prefixes: prefixTexts, reason: `solicited by ${from}` });
  }

  function poll(): void {
    let datagrams;
    try {
      datagrams = socket.receive();
    } catch (error) {
      emit({ kind: 'server.error', time: now(), source: 'ra', server: 'ra', message: (error as Error).message });
      return;
    }
    for (const { data, from } of datagrams) {
      stats.received += 1;
      handleGuarded(guard, from, data.length, () => {
        let message;
        try {
          message = decode(data);
        } catch (error) {
          reportDropped(guard, from, data.length, (error as Error).message);
          return;
        }
        if (message.kind === 'router-advert') onAdvert(message, from);
        else if (sourceLinkLayerOf(message) !== options.mac) onSolicit(from);
      });
    }
  }

  const poller = setInterval(() => {
    poll();
    checkRouters();
  }, options.pollMs ?? 100);
  poller.unref();
  emit({ kind: 'server.listening', time: now(), source: 'ra', server: 'ra', address: `icmpv6 ${iface}` });
  listen();

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      const was = state;
      state = 'closed';
      clearInterval(poller);
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      // A send failure here (the interface already gone) is told in the stop reason, not as a server error.
      const final = was === 'advertising' ? withdraw({ managed, other }, 'pxedeck is closing', 'in-reason') : '';
      socket.close();
      if (was === 'advertising') emit({ kind: 'ra.stopped', time: now(), ...base, reason: `pxedeck is closing${final}` });
      emit({ kind: 'server.closed', time: now(), source: 'ra', server: 'ra' });
    })();
    return closing;
  };
  if (options.signal?.aborted) await close();
  else options.signal?.addEventListener('abort', () => void close(), { once: true });

  /** The interface's prefixes changed: advertised from now on, and at once to all nodes while we advertise. */
  const setPrefixes = (prefixes: readonly AdvertisedPrefix[]): void => {
    const texts = textsOf(prefixes);
    if (state === 'closed' || texts.join(' ') === prefixTexts.join(' ')) return;
    advertBytes = encode(advertOf(content, prefixes));
    prefixTexts = texts;
    if (state !== 'advertising') return;
    advertise(ALL_NODES);
    emit({ kind: 'ra.started', time: now(), ...base, managed, other, routerLifetime, prefixes: prefixTexts, reason: `the prefixes on ${iface} changed` });
  };

  return {
    state: () => state,
    setPrefixes,
    routers: () => table.known().map(({ expiresAt: _expiresAt, withdrawn: _withdrawn, ...router }): SeenRouter => router),
    stats,
    close,
  };
}
