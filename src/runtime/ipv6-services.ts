/**
 * IPv6 service on the bench port: DHCPv6 (full with --pool6, else stateless) and router advertisements,
 * opened when the interface has a global/ULA address for boot URLs (a link-local one cannot go in a URL),
 * at the start or whenever the first one appears, and following that address while pxedeck runs.
 */
import { isIPv6 } from 'node:net';
import type { CliOptions } from '../cli/args.js';
import { encodeDuid } from '../protocol/dhcp6/options.js';
import { macToBytes } from '../protocol/mac.js';
import { Lease6Pool } from '../servers/dhcp6/lease-pool6.js';
import { createDhcp6Server, type Dhcp6Server, type Dhcp6ServerOptions } from '../servers/dhcp6/server.js';
import type { Emit } from '../servers/events.js';
import { openDeviceUdpSocket } from '../servers/net/device-socket.js';
import { followUrlAddress6 } from '../servers/net/interface-watch.js';
import { neighborMac6 } from '../servers/net/neighbors6.js';
import { createRouterAdvertService, prefixesFromAddresses, type AdvertisedPrefix, type RouterAdvertService } from '../servers/ra/service.js';
import { openLease6File } from '../state/lease6-file.js';
import { leaseStoreEvent, openWatchedLeaseFile } from './lease-store-state.js';
import type { ClientRegistry } from '../state/registry.js';
import type { Settings } from '../state/settings.js';
import type { PlannerSet } from './planners.js';
import type { Served } from './served-interface.js';
import type { Closable, ServerSet, ServerSlot } from './server-set.js';

export interface Ipv6ServicesOptions {
  readonly served: Served;
  readonly settings: Settings;
  readonly pool6: CliOptions['pool6'];
  readonly dataDir: string;
  readonly routerLifetimeSeconds: number;
  readonly binaries: () => ReadonlySet<string>;
  readonly uefi?: Dhcp6ServerOptions['uefi'];
  readonly planners: PlannerSet;
  readonly registry: ClientRegistry;
  readonly servers: ServerSet;
  readonly emit: Emit;
  readonly notice: (level: 'info' | 'warning', message: string) => void;
  /** Opens TFTP and HTTP on an IPv6 address the interface gained after the start. */
  readonly listenOn: (address: string) => Promise<Closable[]>;
}

export interface Ipv6Services {
  /** The address boot URLs name now, if any. */
  readonly address: string | undefined;
  /** New sockets after the interface was replugged (SO_BINDTODEVICE pins to the interface index). */
  reopenSockets(): void;
  /** A fresh RA service: asks again which router advertises (the link came back, perhaps on another switch). */
  reopenAdverts(): void;
  readonly canReopenAdverts: boolean;
  /** The interface's global/ULA addresses (`addr/len`) changed; `advertiseNow`: tell the RAs at once. */
  follow(addresses: readonly string[], advertiseNow: boolean): void;
}

/** Extra IPv6 addresses TFTP and HTTP are opened on during one run. */
const maxExtraListeners = 4;

export async function startIpv6Services(options: Ipv6ServicesOptions): Promise<Ipv6Services> {
  const { served, settings, planners, registry, servers, emit, notice } = options;
  const initialAddress = firstUrlAddress(served);
  let address = initialAddress;
  let dhcp6: ServerSlot<Dhcp6Server> | undefined;
  let ra: ServerSlot<RouterAdvertService> | undefined;
  let prefixes: AdvertisedPrefix[] = [];

  /** Opens DHCPv6 and the RA service on `address`. False without a MAC to build the DUID and RAs from. */
  const open = async (): Promise<boolean> => {
    if (!address || !served.mac) return false;
    const mac = served.mac;
    const range6 = settings.mode === 'dhcp' ? options.pool6 : undefined;
    const lease6File = range6 ? openWatchedLeaseFile('leases6', options.dataDir, openLease6File, emit, notice) : undefined;
    if (lease6File) {
      servers.afterClose(() => lease6File.close());
      emit(leaseStoreEvent('server.listening', 'leases6', lease6File.path));
    }
    const pool6 = range6 ? new Lease6Pool({ first: range6.first, last: range6.last, validSeconds: 3600, excluded: [address], store: lease6File }) : undefined;
    const dnsServers = settings.dnsServers?.filter((server) => isIPv6(server));
    // Reopened with the address boot URLs name at that moment, or none.
    const startDhcp6 = () =>
      createDhcp6Server({
        mode: pool6 ? 'full' : 'stateless',
        serverAddress: address,
        serverDuid: encodeDuid({ type: 'll', hardwareType: 1, linkLayerAddress: macToBytes(mac) }),
        interfaceName: served.name,
        multicastInterface: served.name,
        openSocket: (port) => openDeviceUdpSocket({ device: served.name, port, family: 6 }),
        httpPort: settings.httpPort,
        binaries: options.binaries,
        ...(options.uefi && { uefi: options.uefi }),
        // OVMF otherwise collects Advertises for ~6 s before taking ours.
        preference: 255,
        ...(dnsServers?.length && { dnsServers }),
        clientState: (client) => (client ? { policy: planners.main.dhcpPolicy(client), history: registry.history(client) } : { policy: {}, history: {} }),
        macFor: (ip) => registry.macForIp(ip) ?? neighborMac6(ip, served.name),
        ...(pool6 && { pool: pool6 }),
        emit,
        signal: servers.signal,
      });
    // M only when our DHCPv6 hands out addresses: stateful iPXE drops an Advertise without one.
    const startRa = () =>
      createRouterAdvertService({
        interfaceName: served.name,
        mac,
        prefixes,
        managed: pool6 !== undefined,
        other: true,
        routerLifetime: options.routerLifetimeSeconds,
        emit,
        signal: servers.signal,
      });
    let firstDhcp6: Dhcp6Server | undefined;
    try {
      firstDhcp6 = await startDhcp6();
    } catch (error) {
      // IPv6 is an addition: its failure (port 547 taken, ff02::1:2 not joinable) must not stop IPv4 boots.
      notice('warning', `no DHCPv6: ${(error as Error).message}; IPv6-only machines will not boot from pxedeck`);
    }
    let firstRa: RouterAdvertService | undefined;
    try {
      firstRa = await startRa();
    } catch (error) {
      notice('warning', `no router advertisements: ${(error as Error).message}; without a router on ${served.name}, firmware will not start DHCPv6`);
    }
    dhcp6 = servers.slot({ source: 'dhcp6', server: 'dhcp6' }, firstDhcp6, startDhcp6);
    ra = servers.slot({ source: 'ra', server: 'ra' }, firstRa, startRa);
    return true;
  };

  /** TFTP and HTTP on IPv6 addresses the interface gained after the start, at most a few per run. */
  const extraListeners = new Set<string>();
  const listenOn = async (next: string): Promise<void> => {
    if (next === initialAddress || extraListeners.has(next)) return;
    if (extraListeners.size >= maxExtraListeners) throw new Error(`TFTP and HTTP already listen on ${extraListeners.size} IPv6 addresses besides the first; restart pxedeck to serve ${next}`);
    for (const listener of await options.listenOn(next)) servers.add(listener);
    extraListeners.add(next);
  };

  if (address) {
    prefixes = prefixesFromAddresses(served.ipv6);
    await open();
  }

  return {
    get address() {
      return address;
    },
    reopenSockets: () => dhcp6?.reopen(),
    reopenAdverts: () => ra?.reopen(),
    get canReopenAdverts() {
      return ra !== undefined;
    },
    /**
     * Boot URLs keep naming their address while the interface holds it; should it go, the next one left —
     * TFTP and HTTP listen there too, and DHCPv6 and iPXE scripts name it — or, with none left, DHCPv6 says it
     * has no address to offer (its state and every message it leaves unanswered) until one comes back. A
     * listener on an address that went stays open: it serves again if the address comes back.
     */
    follow: (addresses, advertiseNow) => {
      prefixes = prefixesFromAddresses(addresses.map((entry) => ({ address: entry.replace(/\/\d+$/, ''), prefixLength: Number(entry.replace(/^.*\//, '')) })));
      if (advertiseNow) ra?.current?.setPrefixes(prefixes);
      servers.serially(async () => {
        const previous = address;
        const next = followUrlAddress6(previous, addresses);
        if (next === previous) return;
        if (next === undefined) {
          address = undefined;
          dhcp6?.current?.setServerAddress(undefined, `${previous} is no longer on ${served.name}`);
          notice('warning', `${served.name} lost ${previous}, the IPv6 address in boot URLs: DHCPv6 answers no IPv6 machine until ${served.name} has a global or ULA address again`);
          return;
        }
        try {
          await listenOn(next);
        } catch (error) {
          address = undefined;
          const why = `TFTP/HTTP cannot listen on ${next}: ${(error as Error).message}`;
          dhcp6?.current?.setServerAddress(undefined, why);
          notice('warning', `${served.name}: ${why}; DHCPv6 answers no IPv6 machine`);
          return;
        }
        address = next;
        planners.setAddress6(next);
        if (dhcp6) dhcp6.current?.setServerAddress(next);
        // The interface had no global/ULA address at the start: DHCPv6 and RAs open now, as they would have then.
        else if (!(await open())) {
          notice('info', `${served.name} has ${next}, but no MAC address to send router advertisements from: pxedeck serves no DHCPv6 there`);
          return;
        }
        if (previous) notice('warning', `${served.name} lost ${previous}: IPv6 boot URLs name ${next} now`);
        else notice('info', `${served.name} has ${next}: IPv6 boot URLs name it`);
      });
    },
  };
}

/** The first global/ULA address of the interface: the one boot URLs name at the start. */
export function firstUrlAddress(served: Served): string | undefined {
  return served.ipv6.find((entry) => !entry.address.toLowerCase().startsWith('fe80:'))?.address;
}

/**
 * What pxedeck does on an IPv6-only bench port, said once at the start: the IPv4 services have nothing to
 * serve there (not a failure), and in proxy mode there is no DHCPv4 server to stand beside.
 */
export function ipv6OnlyNotice(name: string, address: string, settings: Pick<Settings, 'mode' | 'pool'>, pool6: CliOptions['pool6']): string {
  const services = `TFTP, HTTP and syslog on ${address}`;
  const unused = settings.pool ? `; the IPv4 pool ${settings.pool} is not used` : '';
  if (settings.mode === 'proxy') {
    return (
      `${name} is IPv6 only: DHCPv4 and the PXE boot server (4011) do not apply${unused}. Proxy mode here: DHCPv6 answers ` +
      'boot requests with boot options only (the boot file URL), never addresses — the network\'s router and DHCPv6 server ' +
      `give those; pxedeck sends router advertisements only when no router answers, never as a default router; ${services}`
    );
  }
  const dhcp6 = pool6 ? `DHCPv6 hands out addresses from ${pool6.first}-${pool6.last}` : 'DHCPv6 hands out boot options only (addresses by SLAAC; --pool6 for DHCPv6 addresses)';
  return `${name} is IPv6 only: DHCPv4 and the PXE boot server (4011) do not apply${unused}. ${dhcp6}, with pxedeck's router advertisements when no router answers; ${services}`;
}

