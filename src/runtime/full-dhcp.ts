/**
 * Full DHCP mode's preconditions: an address pool on the served subnet (leases persisted in the data dir),
 * and no other DHCP server already answering on the interface — two servers on one segment hand out
 * conflicting addresses.
 */
import type { CliOptions } from '../cli/args.js';
import { parseMac, type Mac } from '../protocol/mac.js';
import { LeasePool, type LeasePoolOptions, type LeaseStore } from '../servers/dhcp4/lease-pool.js';
import { DEFAULT_PROBE_MS, probeForDhcpServers } from '../servers/dhcp4/probe.js';
import type { Emit } from '../servers/events.js';
import { openDeviceUdpSocket } from '../servers/net/device-socket.js';
import type { PersistentLeaseStore } from '../state/lease-file.js';
import { parsePool, type Settings } from '../state/settings.js';
import { StartupError } from './operator-error.js';
import { suggestPool, type Served, type Served4 } from './served-interface.js';

export function openLeasePool(settings: Settings, served: Served4, store: PersistentLeaseStore): LeasePool {
  const range = settings.pool ? parsePool(settings.pool) : undefined;
  if (!range) {
    throw new StartupError(
      `full DHCP needs an address pool on ${served.subnet}; fix: add --pool ${suggestPool(served)}${settings.pool ? ` (got "${settings.pool}")` : ''}`,
    );
  }
  try {
    return new LeasePool(
      leasePoolOptions({
        range,
        subnet: served.subnet,
        excluded: [served.address, ...(settings.routers ?? [])],
        reservations: new Map(Object.entries(settings.reservations).map(([mac, ip]) => [parseMac(mac)!, ip])),
        leaseSeconds: settings.leaseSeconds,
        store,
      }),
    );
  } catch (error) {
    throw new StartupError(`--pool ${settings.pool}: ${(error as Error).message}; fix: use addresses on ${served.subnet}, e.g. ${suggestPool(served)}`);
  }
}

/**
 * A pool's options built in one place, every field always present: the DHCP warm-up's pool then has the
 * real pool's hidden class, and code V8 optimised on the one runs on the other (dhcp-warm-up.ts).
 */
export function leasePoolOptions(parts: {
  readonly range: { readonly first: string; readonly last: string };
  readonly subnet: string;
  readonly excluded: readonly string[];
  readonly reservations: ReadonlyMap<Mac, string>;
  readonly leaseSeconds: number;
  readonly store: LeaseStore;
}): LeasePoolOptions {
  const { range, subnet, excluded, reservations, leaseSeconds, store } = parts;
  return { first: range.first, last: range.last, subnet, excluded, reservations, leaseSeconds, store };
}

/**
 * Full DHCP where the laptop's default route goes is, nine times out of ten, a rogue DHCP server on the
 * office or home LAN: every machine there could take pxedeck's lease and lose its network. Only an explicit
 * confirmation lets it start (proxy mode, which hands out no addresses, is always allowed).
 */
export function refuseOnUplink(served: Served, confirmed: boolean): void {
  if (!served.defaultRoute || confirmed) return;
  throw new StartupError(
    `refusing full DHCP on ${served.name}: it holds this machine's default route, so it is most likely a shared network ` +
      `(office, home, lab LAN) where a second DHCP server hands wrong addresses to everyone. Fix: plug the bench switch ` +
      `into another port and pass --interface NAME, or use --mode proxy to boot machines beside the network's own DHCP ` +
      `server, or — only if ${served.name} is an isolated network of yours — add --allow-dhcp-on-uplink`,
  );
}

/** Asks the segment for DHCP servers (as a client would) and refuses to start beside one unless --force. */
export async function refuseBesideForeignServer(cli: CliOptions, served: Served, emit: Emit): Promise<void> {
  if (!served.mac) return;
  const probeSocket = await openDeviceUdpSocket({ device: served.name, port: cli.dhcpClientPort ?? 68 });
  try {
    const found = await probeForDhcpServers({
      socket: probeSocket,
      mac: served.mac,
      serverPort: cli.dhcpPort ?? 67,
      timeoutMs: cli.probeMs ?? DEFAULT_PROBE_MS,
    });
    for (const server of found) {
      emit({ kind: 'dhcp.foreign-server', time: Date.now(), source: 'dhcp4', server: server.server, offered: server.offered, ...(server.bootFile && { bootFile: server.bootFile }) });
    }
    if (found.length && !cli.force) {
      const list = found.map((server) => `${server.server} (offered ${server.offered}${server.bootFile ? `, boot file ${server.bootFile}` : ''})`).join(', ');
      throw new StartupError(`another DHCP server already answers on ${served.name}: ${list}; fix: use --mode proxy beside it, unplug it, or --force if you are sure`);
    }
  } finally {
    probeSocket.close();
  }
}
