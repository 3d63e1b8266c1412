/**
 * Other DHCP servers on the served segment, folded from what the servers report: the full-mode probe and
 * REQUESTs naming another server (`dhcp.foreign-server`), and the replies overheard on UDP 68
 * (`dhcp.foreign-reply`). Per server: when it was last heard, the latest address and boot file it handed
 * out, and what it offered to which machine (one entry per MAC, newest last, bounded).
 */
import type { Mac } from '../protocol/mac.js';
import type { PxedeckEvent } from '../servers/events.js';

export interface ForeignOffer {
  readonly mac: Mac;
  /** OFFER, ACK, NAK or BOOTREPLY. */
  readonly messageType: string;
  readonly at: number;
  readonly offered?: string;
  readonly bootFile?: string;
  readonly nextServer?: string;
}

export interface ForeignServer {
  readonly server: string;
  readonly lastSeen: number;
  /** The latest address it was seen handing out. */
  readonly offered?: string;
  readonly bootFile?: string;
  readonly nextServer?: string;
  /** What it answered to which machine, one entry per MAC, newest last. */
  readonly offers: readonly ForeignOffer[];
}

export type ForeignServers = ReadonlyMap<string, ForeignServer>;

/** A busy site server answers every machine on the segment: keep the latest ones. */
export const OFFERS_PER_SERVER = 32;

/** A segment has one or two DHCP servers; replies spoofed from many addresses must not grow the list without end. */
export const FOREIGN_SERVER_LIMIT = 32;

/** Pure: the list after `event`; the same map when the event is not about a foreign server. */
export function foldForeignServer(servers: ForeignServers, event: PxedeckEvent, limit = OFFERS_PER_SERVER): ForeignServers {
  if (event.kind !== 'dhcp.foreign-server' && event.kind !== 'dhcp.foreign-reply') return servers;
  const previous = servers.get(event.server);
  let offers = previous?.offers ?? [];
  if (event.kind === 'dhcp.foreign-reply') {
    const offer: ForeignOffer = {
      mac: event.mac,
      messageType: event.messageType,
      at: event.time,
      ...(event.offered && { offered: event.offered }),
      ...(event.bootFile && { bootFile: event.bootFile }),
      ...(event.nextServer && { nextServer: event.nextServer }),
    };
    offers = [...offers.filter((entry) => entry.mac !== event.mac), offer];
    if (offers.length > limit) offers = offers.slice(offers.length - limit);
  }
  const offered = event.offered ?? previous?.offered;
  const bootFile = event.bootFile ?? previous?.bootFile;
  const nextServer = (event.kind === 'dhcp.foreign-reply' ? event.nextServer : undefined) ?? previous?.nextServer;
  const next: ForeignServer = {
    server: event.server,
    lastSeen: Math.max(event.time, previous?.lastSeen ?? 0),
    ...(offered && { offered }),
    ...(bootFile && { bootFile }),
    ...(nextServer && { nextServer }),
    offers,
  };
  const result = new Map(servers);
  result.set(event.server, next);
  if (result.size > FOREIGN_SERVER_LIMIT) {
    const quietest = [...result.values()].reduce((oldest, entry) => (entry.lastSeen < oldest.lastSeen ? entry : oldest));
    result.delete(quietest.server);
  }
  return result;
}
