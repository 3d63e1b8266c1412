/**
 * Who sends router advertisements on the served segment, folded from the RA service's events: a foreign
 * router (with the flags, lifetime and prefixes it advertised), pxedeck itself, or nobody. Firmware starts
 * DHCPv6 only after an RA with the M or O flag, so this is what tells the operator why IPv6 machines do or
 * do not ask pxedeck.
 */
import type { PxedeckEvent } from '../servers/events.js';

export interface AdvertisingRouter {
  /** Its link-local address. */
  readonly address: string;
  readonly managed: boolean;
  readonly other: boolean;
  /** Seconds, as last reported (0: it advertises, but is nobody's default router). */
  readonly routerLifetime: number;
  readonly prefixes: readonly string[];
  readonly since: number;
}

export interface OwnAdverts {
  readonly managed: boolean;
  readonly other: boolean;
  /** Seconds pxedeck advertises (0 in proxy mode: nobody's default router). */
  readonly routerLifetime: number;
  readonly prefixes: readonly string[];
  readonly since: number;
}

export interface RouterAdvertView {
  /** `off`: no RA service (no IPv6 on the interface, or it could not start). */
  readonly service: 'off' | 'listening' | 'advertising' | 'deferring' | 'closed';
  readonly interface?: string;
  /** Set while pxedeck advertises. */
  readonly ours?: OwnAdverts;
  /** Foreign advertisers, in the order first seen. */
  readonly routers: readonly AdvertisingRouter[];
}

export const noRouterAdverts: RouterAdvertView = { service: 'off', routers: [] };

/** The view after `event`; the same object when the event is not about router advertisements. */
export function foldRouterAdvert(view: RouterAdvertView, event: PxedeckEvent): RouterAdvertView {
  if (event.source !== 'ra') return view;
  switch (event.kind) {
    case 'server.listening':
      return { service: 'listening', ...(event.address && { interface: event.address.replace(/^icmpv6 /, '') }), routers: [] };
    case 'server.closed':
      return { ...(view.interface && { interface: view.interface }), service: 'closed', routers: [] };
    case 'ra.started':
      return {
        ...view,
        service: 'advertising',
        interface: event.interface,
        ours: { managed: event.managed ?? false, other: event.other ?? false, routerLifetime: event.routerLifetime ?? 0, prefixes: event.prefixes ?? [], since: event.time },
      };
    case 'ra.stopped': {
      const { ours: _ours, ...rest } = view;
      return { ...rest, service: view.service === 'closed' ? 'closed' : 'deferring' };
    }
    case 'ra.router-seen': {
      if (!event.router) return view;
      const previous = view.routers.find((router) => router.address === event.router);
      const router: AdvertisingRouter = {
        address: event.router,
        managed: event.managed ?? false,
        other: event.other ?? false,
        routerLifetime: event.routerLifetime ?? 0,
        prefixes: event.prefixes ?? [],
        since: previous?.since ?? event.time,
      };
      const routers = previous ? view.routers.map((entry) => (entry === previous ? router : entry)) : [...view.routers, router];
      // The service reports no "deferring" of its own: hearing a router while listening is what makes it defer.
      return { ...view, service: view.service === 'listening' ? 'deferring' : view.service, routers };
    }
    case 'ra.router-gone':
      return { ...view, routers: view.routers.filter((router) => router.address !== event.router) };
    default:
      return view;
  }
}

export type SegmentAdvertiser =
  | { readonly kind: 'router'; readonly router: AdvertisingRouter; readonly others: number }
  | { readonly kind: 'pxedeck'; readonly ours: OwnAdverts; readonly others: number }
  | { readonly kind: 'none'; readonly isListening: boolean };

/**
 * Whose RAs hosts on the segment act on. A router with a lifetime beats a zero-lifetime one (that is the
 * one pxedeck defers to); pxedeck, while it advertises, is named first; `undefined` with no RA service.
 */
export function segmentAdvertiser(view: RouterAdvertView): SegmentAdvertiser | undefined {
  if (view.service === 'off') return undefined;
  if (view.ours) return { kind: 'pxedeck', ours: view.ours, others: view.routers.length };
  const router = view.routers.find((entry) => entry.routerLifetime > 0) ?? view.routers[0];
  if (router) return { kind: 'router', router, others: view.routers.length - 1 };
  return { kind: 'none', isListening: view.service === 'listening' };
}
