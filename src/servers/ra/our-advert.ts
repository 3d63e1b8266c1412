/**
 * What pxedeck advertises: the prefixes an interface's addresses suggest, our router advertisement for
 * them, the final one that withdraws us as default router, and our router solicitation.
 */
import { encode, type NdOption, type RouterAdvert, type RouterPreference } from '../../protocol/icmpv6/router-discovery.js';
import ipaddr, { type IPv6 } from '../../protocol/ipaddr.js';
import type { Mac } from '../../protocol/mac.js';

export interface AdvertisedPrefix {
  readonly prefix: string;
  readonly prefixLength: number;
  /** SLAAC (the A flag); only meaningful for /64. */
  readonly autonomous: boolean;
}

/** Everything in our RA but the prefixes, fixed for the service's life. */
export interface AdvertContent {
  readonly mac: Mac;
  readonly managed: boolean;
  readonly other: boolean;
  readonly preference: RouterPreference;
  readonly routerLifetime: number;
  readonly validLifetime: number;
  readonly preferredLifetime: number;
}

/** The prefixes an interface's addresses suggest: global and ULA ones, each network once; SLAAC only on /64. */
export function prefixesFromAddresses(addresses: readonly { readonly address: string; readonly prefixLength: number }[]): AdvertisedPrefix[] {
  const seen = new Map<string, AdvertisedPrefix>();
  for (const { address, prefixLength } of addresses) {
    let parsed: IPv6;
    try {
      parsed = ipaddr.IPv6.parse(address.replace(/%.*$/, ''));
    } catch {
      continue;
    }
    // Deny-list rather than allow-list: lab and documentation prefixes (2001:db8::/32) are fine to advertise.
    if (['linkLocal', 'multicast', 'loopback', 'unspecified', 'ipv4Mapped'].includes(parsed.range())) continue;
    if (prefixLength < 1 || prefixLength > 128) continue;
    const prefix = ipaddr.IPv6.networkAddressFromCIDR(`${parsed.toString()}/${prefixLength}`).toString();
    const key = `${prefix}/${prefixLength}`;
    if (!seen.has(key)) seen.set(key, { prefix, prefixLength, autonomous: prefixLength === 64 });
  }
  return [...seen.values()];
}

export function advertOf(content: AdvertContent, prefixes: readonly AdvertisedPrefix[]): RouterAdvert {
  return {
    kind: 'router-advert',
    curHopLimit: 64,
    managed: content.managed,
    other: content.other,
    preference: content.preference,
    routerLifetime: content.routerLifetime,
    reachableTime: 0,
    retransTimer: 0,
    options: [
      { type: 'source-link-layer', mac: content.mac },
      ...prefixes.map(
        (prefix): NdOption => ({
          type: 'prefix',
          prefix: prefix.prefix,
          prefixLength: prefix.prefixLength,
          onLink: true,
          autonomous: prefix.autonomous,
          validLifetime: content.validLifetime,
          preferredLifetime: content.preferredLifetime,
        }),
      ),
    ],
  };
}

/**
 * RFC 4861 §6.2.5: hosts drop us as default router on it. No prefixes, so nothing else of theirs changes;
 * `flags`: the M/O flags the segment should be left with.
 */
export function finalAdvertBytes(content: AdvertContent, flags: { readonly managed: boolean; readonly other: boolean }): Buffer {
  return encode({ ...advertOf(content, []), ...flags, preference: 'medium', routerLifetime: 0 });
}

export function solicitationBytes(mac: Mac): Buffer {
  return encode({ kind: 'router-solicit', options: [{ type: 'source-link-layer', mac }] });
}

/** `prefix/length` of each, as events name them. */
export const textsOf = (prefixes: readonly AdvertisedPrefix[]): string[] => prefixes.map((prefix) => `${prefix.prefix}/${prefix.prefixLength}`);
