/**
 * The composition root: the only file that wires settings, sockets, servers, the registry and the
 * terminal together. Everything below it receives what it needs as arguments.
 */
import type { Socket } from 'node:dgram';
import { mkdirSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { missingBinaryHint } from './boot/boot-binaries.js';
import type { BootTarget } from './boot/boot-target.js';
import { parseCli, usage, UsageError, type CliOptions } from './cli/args.js';
import { assignUsage, runAssign, runExplain } from './cli/commands.js';
import { runReport } from './cli/report.js';
import { formatEventJson } from './cli/event-log.js';
import { createConsoleFeed } from '../components/model/console-feed.js';
import type { RunningServers, RuntimeConfig } from '../components/model/server-control.js';
import { runConsole } from '../components/run-console.js';
import { encodeDuid } from './protocol/dhcp6/options.js';
import { macToBytes, parseMac, type Mac } from './protocol/mac.js';
import { askBootApi } from './servers/boot-api-client.js';
import { scanBootFiles } from './servers/boot-files.js';
import { LeasePool } from './servers/dhcp4/lease-pool.js';
import { DEFAULT_PROBE_MS, probeForDhcpServers } from './servers/dhcp4/probe.js';
import { createDhcp4Server, type Dhcp4Server } from './servers/dhcp4/server.js';
import { startReplyObserver } from './servers/dhcp4/reply-observer.js';
import { Lease6Pool } from './servers/dhcp6/lease-pool6.js';
import { createDhcp6Server, type Dhcp6Server } from './servers/dhcp6/server.js';
import { createRouterAdvertService, prefixesFromAddresses, type AdvertisedPrefix, type RouterAdvertService } from './servers/ra/service.js';
import type { Emit, PxedeckEvent } from './servers/events.js';
import { cacheLimitBytes } from './servers/http/cache-limit.js';
import { ControlError, createControlApi, type ControlApi } from './servers/http/control-api.js';
import { createHttpServer, type HttpBind, type HttpServer } from './servers/http/server.js';
import { openDeviceUdpSocket, openUdpSocket, SocketOpenError } from './servers/net/device-socket.js';
import { chooseInterface, compareInterfaceStates, followUrlAddress6, InterfaceChoiceError, watchInterface, type Ipv6Address } from './servers/net/interfaces.js';
import { neighborMac } from './servers/net/neighbors.js';
import { neighborMac6 } from './servers/net/neighbors6.js';
import { createTftpServer, type TftpBind, type TftpServer } from './servers/tftp/server.js';
import { createSyslogServer, DEFAULT_SYSLOG_PORT, type SyslogServer } from './servers/syslog/server.js';
import { openEventLog } from './state/event-log.js';
import { openAssignments } from './state/assignments.js';
import { createBootPlanner } from './state/boot-plans.js';
import { openClientPolicies } from './state/client-policies.js';
import { ConfigFileError } from './state/conf-file.js';
import { openLeaseFile } from './state/lease-file.js';
import { openLease6File } from './state/lease6-file.js';
import { formatProblem, loadProfileLibrary } from './state/profile-library.js';
import { ClientRegistry } from './state/registry.js';
import { openSettings, parsePool, parseTargetSetting, routerLifetimeOf, type Settings } from './state/settings.js';

/** A startup problem the operator can fix; printed without a stack trace. */
class StartupError extends Error {}

const presetsDir = fileURLToPath(new URL('../presets', import.meta.url));

interface Served {
  readonly name: string;
  readonly serverAddress: string;
  readonly subnet: string;
  readonly broadcast: string;
  readonly netmask: string;
  readonly mac?: Mac;
  /** The interface's IPv6 addresses (link-local included); empty on loopback. */
  readonly ipv6: readonly Ipv6Address[];
  readonly openSocket: (port: number) => Promise<Socket>;
  /** Loopback has no broadcast: replies go back to 127.0.0.1 (development and tests). */
  readonly replyBroadcast: string;
}

function servedInterface(name: string | undefined): Served {
  if (name === 'lo') {
    return {
      name: 'lo',
      serverAddress: '127.0.0.1',
      subnet: '127.0.0.0/8',
      broadcast: '127.255.255.255',
      netmask: '255.0.0.0',
      ipv6: [],
      openSocket: (port) => openUdpSocket({ address: '127.0.0.1', port }),
      replyBroadcast: '127.0.0.1',
    };
  }
  const iface = chooseInterface(name);
  const ipv4 = iface.ipv4[0];
  if (!ipv4) throw new StartupError(`${iface.name} has no IPv4 address; fix: give it one (ip addr add 10.0.0.1/24 dev ${iface.name})`);
  return {
    name: iface.name,
    serverAddress: ipv4.address,
    subnet: `${ipv4.network}/${ipv4.prefixLength}`,
    broadcast: ipv4.broadcast,
    netmask: ipv4.netmask,
    ...(iface.mac && { mac: iface.mac }),
    ipv6: iface.ipv6,
    openSocket: (port) => openDeviceUdpSocket({ device: iface.name, port }),
    replyBroadcast: '255.255.255.255',
  };
}

function suggestPool(served: Served): string {
  const [a, b, c] = served.serverAddress.split('.');
  return `${a}.${b}.${c}.100-${a}.${b}.${c}.199`;
}

function dataDirOf(cli: CliOptions): string {
  return resolve(cli.dataDir ?? join(homedir(), '.config', 'pxedeck'));
}

function loadSettings(cli: CliOptions): Settings {
  const saved = openSettings(dataDirOf(cli)).load();
  return {
    ...saved,
    ...(cli.interface && { interface: cli.interface }),
    ...(cli.mode && { mode: cli.mode }),
    ...(cli.pool && { pool: cli.pool }),
    ...(cli.bootDir && { bootDir: cli.bootDir }),
    ...(cli.httpPort !== undefined && { httpPort: cli.httpPort }),
    ...(cli.raLifetime !== undefined && { raLifetime: cli.raLifetime }),
  };
}

/** Quick mode (`--kernel`) makes that kernel the default; otherwise the saved default target. */
function defaultTargetOf(cli: CliOptions, settings: Settings): BootTarget {
  if (cli.kernel) {
    const local = (source: string) => (/^https?:\/\//i.test(source) ? source : resolve(source));
    return { kind: 'inline', kernel: local(cli.kernel), initrds: (cli.initrds ?? []).map(local), cmdline: cli.cmdline ?? '' };
  }
  return parseTargetSetting(settings.defaultTarget)!;
}

export interface Runtime {
  readonly registry: ClientRegistry;
  close(): Promise<void>;
}

/** `registry`: the console passes its own, so events are folded once and a settings restart keeps every machine's history. */
export async function startRuntime(cli: CliOptions, print: (event: PxedeckEvent) => void, registry = new ClientRegistry()): Promise<Runtime> {
  const dataDir = dataDirOf(cli);
  const settings = loadSettings(cli);
  const routerLifetime = routerLifetimeOf(settings);
  if ('problem' in routerLifetime) throw new StartupError(routerLifetime.problem);
  // Every event, also those emitted while starting, so `pxedeck report MAC` can tell a session afterwards.
  const eventLog = openEventLog(dataDir, {
    onError: (error) => notice('warning', `event log ${join(dataDir, 'events')}: ${error.message}; events are not being saved`),
  });
  const emit: Emit = (event) => {
    registry.apply(event);
    eventLog.append(event);
    print(event);
    for (const { mac, verdict } of registry.takeNewVerdicts()) {
      emit({ kind: 'client.diagnosis', time: verdict.at, source: 'system', mac, verdict: verdict.kind, severity: verdict.severity, summary: verdict.summary, cause: verdict.cause, fix: verdict.fix });
    }
  };
  const notice = (level: 'info' | 'warning', message: string) => emit({ kind: 'notice', time: Date.now(), source: 'system', level, message });
  const controller = new AbortController();
  const served = servedInterface(settings.interface);
  const bootDir = resolve(settings.bootDir ?? join(dataDir, 'boot'));
  mkdirSync(bootDir, { recursive: true });
  const catalog = scanBootFiles(bootDir);
  for (const file of ['undionly.kpxe', 'ipxe.efi', 'ipxe.lkrn', 'pxelinux.0', 'ldlinux.c32']) {
    if (!catalog.names.has(file)) notice('warning', missingBinaryHint(file));
  }
  const httpBase = `http://${served.serverAddress}${settings.httpPort === 80 ? '' : `:${settings.httpPort}`}`;
  const policies = openClientPolicies(dataDir);
  const assignments = openAssignments(dataDir);
  let library = loadProfileLibrary(presetsDir, [dataDir]);
  for (const problem of library.problems) notice('warning', formatProblem(problem));
  const planner = createBootPlanner({
    serverBase: httpBase,
    library: () => library,
    assignments,
    policies,
    defaultTarget: defaultTargetOf(cli, settings),
    // Installers get it as log_host= / inst.syslog=; both take a bare address and send to 514.
    syslogServer: served.serverAddress,
  });
  // IPv6: a global/ULA address of the interface names us in URLs (a link-local one cannot go in a URL). It
  // follows the interface while pxedeck runs (followIpv6 below); TFTP and HTTP listen on the first one.
  const initialAddress6 = served.ipv6.find((a) => !a.address.toLowerCase().startsWith('fe80:'))?.address;
  let address6 = initialAddress6;
  // Scripts for clients that came over IPv6 name kernels by the IPv6 URL; IPv4 clients keep the IPv4 one.
  const planner6For = (address: string) =>
    createBootPlanner({
      serverBase: `http://[${address}]${settings.httpPort === 80 ? '' : `:${settings.httpPort}`}`,
      library: () => library,
      assignments,
      policies,
      defaultTarget: defaultTargetOf(cli, settings),
      syslogServer: served.serverAddress,
    });
  let planner6 = address6 ? planner6For(address6) : undefined;
  const plannerFor = (ip: string) => (planner6 && isIPv6(ip) && !ip.startsWith('::ffff:') ? planner6 : planner);
  const macOf = (ip: string) => registry.macForIp(ip) ?? (isIPv6(ip) ? neighborMac6(ip, served.name) : neighborMac(ip));
  let lease6File: ReturnType<typeof openLease6File> | undefined;
  let pool: LeasePool | undefined;
  const leaseFile = settings.mode === 'dhcp' ? openLeaseFile(dataDir) : undefined;
  if (settings.mode === 'dhcp') {
    const range = settings.pool ? parsePool(settings.pool) : undefined;
    if (!range) {
      throw new StartupError(
        `full DHCP needs an address pool on ${served.subnet}; fix: add --pool ${suggestPool(served)}${settings.pool ? ` (got "${settings.pool}")` : ''}`,
      );
    }
    try {
      pool = new LeasePool({
        ...range,
        subnet: served.subnet,
        excluded: [served.serverAddress, ...(settings.routers ?? [])],
        reservations: new Map(Object.entries(settings.reservations).map(([mac, ip]) => [parseMac(mac)!, ip])),
        leaseSeconds: settings.leaseSeconds,
        store: leaseFile,
      });
    } catch (error) {
      throw new StartupError(`--pool ${settings.pool}: ${(error as Error).message}; fix: use addresses on ${served.subnet}, e.g. ${suggestPool(served)}`);
    }
    if (served.mac) await refuseBesideForeignServer(cli, served, emit);
  }

  const startDhcp = () =>
    createDhcp4Server({
      mode: settings.mode === 'dhcp' ? 'full' : 'proxy',
      serverAddress: served.serverAddress,
      interfaceName: served.name,
      openSocket: served.openSocket,
      ports: {
        ...(cli.dhcpPort !== undefined && { dhcp: cli.dhcpPort }),
        ...(cli.bootServerPort !== undefined && { bootServer: cli.bootServerPort }),
        ...(cli.dhcpClientPort !== undefined && { client: cli.dhcpClientPort }),
      },
      broadcastAddress: served.replyBroadcast,
      targets: {
        scriptUrl: `${httpBase}/boot.ipxe`,
        httpUrl: (file) => `${httpBase}/${file}`,
        binaries: () => catalog.names,
      },
      clientState: (mac) => ({ policy: planner.dhcpPolicy(mac), history: registry.history(mac) }),
      ...(pool && {
        pool,
        lease: {
          subnetMask: served.netmask,
          broadcastAddress: served.broadcast,
          leaseSeconds: settings.leaseSeconds,
          ...(settings.routers && { routers: settings.routers }),
          ...(settings.dnsServers && { dnsServers: settings.dnsServers }),
        },
      }),
      // Option 7: iPXE sends its console lines to the syslog receiver (to port 514, always).
      ...(syslogAddress && { logServers: [syslogAddress] }),
      emit,
      signal: controller.signal,
    });

  let syslogAddress: string | undefined;
  const closers: Array<() => Promise<void>> = [];
  // Started only once nothing before it can refuse to start: a live watcher keeps the process running.
  const stopFollowing = assignments.follow((mac) => {
    library = loadProfileLibrary(presetsDir, [dataDir]);
    if (mac) notice('info', `${mac}: assignment changed (${JSON.stringify(assignments.get(mac)?.target ?? 'default')})`);
  });
  /** A start that fails half-way closes what it opened, so a refused start exits instead of lingering. */
  const abandonStart = async () => {
    controller.abort();
    await Promise.all(closers.map((close) => close()));
    stopFollowing();
    await eventLog.close();
  };
  const tftpPort = cli.tftpPort ?? 69;
  const tftpOn = (bind: readonly TftpBind[]): Promise<TftpServer> =>
    createTftpServer({
      bind,
      root: [bootDir],
      emit,
      signal: controller.signal,
      resolveVirtual: (path, client) => {
        const config = planner.renderPxelinux(path, client.mac, client.address);
        if (config !== null) return config;
        const name = path.replace(/^\/+/, '');
        const file = catalog.files.get(name) ?? planner.localFiles().get(name);
        return file ? { path: file } : null;
      },
      macForAddress: macOf,
      blksizeCapFor: (client) => (client.mac ? policies.get(client.mac).blksizeCap : undefined),
    });
  const httpOn = (bind: readonly HttpBind[]): Promise<HttpServer> =>
    createHttpServer({
      bind,
      emit,
      signal: controller.signal,
      renderIpxeScript: async (request) => {
        let external: BootTarget | undefined;
        if (settings.bootApi && !request.profile) {
          const answer = await askBootApi(settings.bootApi, request);
          if (answer.kind === 'target') external = answer.target;
          else if (answer.kind === 'unavailable') notice('warning', `${request.mac}: boot API ${answer.reason}; using the local assignment`);
        }
        const result = plannerFor(request.ip).renderIpxe({ ...request, ...(external && { external }) });
        return result.ok ? { script: result.text } : { status: result.status, message: result.message };
      },
      roots: [
        { prefix: '/files', dir: bootDir },
        { prefix: '/files/preseed', dir: join(presetsDir, 'files', 'preseed') },
        { prefix: '/files/kickstart', dir: join(presetsDir, 'files', 'kickstart') },
      ],
      namedFiles: () => new Map([...catalog.files, ...planner.localFiles()]),
      upstream: { cacheDir: join(dataDir, 'cache'), limitBytes: cacheLimitBytes(settings.upstreamCacheGiB), lookup: (id) => planner.upstreamUrl(id) ?? planner6?.upstreamUrl(id) },
      macForIp: macOf,
      onBeacon: (beacon, mac) => {
        if (beacon === 'booted') assignments.consumeOnce(mac, Date.now());
      },
    });
  try {
    const tftp = await tftpOn([{ address: served.serverAddress, port: tftpPort }, ...(address6 ? [{ address: address6, port: tftpPort }] : [])]);
    closers.push(() => tftp.close());
    const http = await httpOn([{ address: served.serverAddress, port: settings.httpPort }, ...(address6 ? [{ address: address6, port: settings.httpPort }] : [])]);
    closers.push(() => http.close());

    // A host syslog daemon may already hold UDP 514: pxedeck then runs without it rather than not at all.
    try {
      const syslog: SyslogServer = await createSyslogServer({
        bind: { address: served.serverAddress, port: cli.syslogPort ?? DEFAULT_SYSLOG_PORT },
        emit,
        signal: controller.signal,
        macForIp: (ip) => registry.macForIp(ip) ?? neighborMac(ip),
      });
      closers.push(() => syslog.close());
      syslogAddress = served.serverAddress;
    } catch (error) {
      if (!(error instanceof SocketOpenError)) throw error;
      notice('warning', `no syslog receiver: ${error.message}; machines' log lines will not be shown (DHCP option 7 left out)`);
    }

    if (settings.controlPort !== 0) {
      const control: ControlApi = await createControlApi({
        port: settings.controlPort,
        ...(settings.controlToken && { token: settings.controlToken }),
        emit,
        signal: controller.signal,
        handlers: {
          listClients: () =>
            [...registry.getSnapshot().clients.values()].map((record) => ({
              ...record,
              timeline: undefined,
              assignment: assignments.get(record.mac) ?? null,
              target: planner.target(record.mac),
            })),
          assign: (mac, body) => {
            try {
              return { mac, assignment: assignments.assign(mac, controlTarget(body, library), controlOptions(body)) };
            } catch (error) {
              throw new ControlError(400, (error as Error).message);
            }
          },
          hold: (mac) => ({ mac, assignment: assignments.hold(mac) }),
          release: (mac) => ({ mac, assignment: assignments.release(mac) }),
        },
      });
      closers.push(() => control.close());
    }
  } catch (error) {
    await abandonStart();
    throw error;
  }

  let dhcp: Dhcp4Server;
  try {
    dhcp = await startDhcp();
  } catch (error) {
    await abandonStart();
    throw error;
  }
  closers.push(() => dhcp.close());
  // Other servers' broadcast replies on UDP 68, shared with the laptop's DHCP client; loopback has none to overhear.
  // Undefined where it could not bind (it said why): nothing to close then.
  const startObserver =
    served.name === 'lo'
      ? undefined
      : async () =>
          (await startReplyObserver({
            openSocket: (port) => openDeviceUdpSocket({ device: served.name, port, reuseAddress: true }),
            port: cli.dhcpClientPort ?? 68,
            ownAddresses: [served.serverAddress],
            interfaceName: served.name,
            emit,
            signal: controller.signal,
          })) ?? { close: () => Promise.resolve() };
  let observer = startObserver ? await startObserver() : undefined;
  closers.push(() => observer?.close() ?? Promise.resolve());

  // DHCPv6 and router advertisements, when the interface has an IPv6 address to put in boot URLs.
  let dhcp6: Dhcp6Server | undefined;
  let ra: RouterAdvertService | undefined;
  let startDhcp6: (() => Promise<Dhcp6Server>) | undefined;
  let startRa: (() => Promise<RouterAdvertService>) | undefined;
  /** What the RAs advertise: the prefixes the interface holds now. */
  let prefixes: AdvertisedPrefix[] = [];
  /**
   * Opens DHCPv6 and the RA service on `address6`: at the start when the interface has a global/ULA address
   * then, else when the first one appears (followIpv6). False without a MAC to build the DUID and RAs from.
   */
  const startIpv6 = async (): Promise<boolean> => {
    if (!address6 || !served.mac) return false;
    const mac = served.mac;
    const range6 = settings.mode === 'dhcp' ? cli.pool6 : undefined;
    lease6File = range6 ? openLease6File(dataDir) : undefined;
    const pool6 = range6 ? new Lease6Pool({ first: range6.first, last: range6.last, validSeconds: 3600, excluded: [address6], store: lease6File }) : undefined;
    // Reopened with the address boot URLs name at that moment, or none.
    startDhcp6 = () =>
      createDhcp6Server({
        mode: pool6 ? 'full' : 'stateless',
        serverAddress: address6,
        serverDuid: encodeDuid({ type: 'll', hardwareType: 1, linkLayerAddress: macToBytes(mac) }),
        interfaceName: served.name,
        multicastInterface: served.name,
        openSocket: (port) => openDeviceUdpSocket({ device: served.name, port, family: 6 }),
        httpPort: settings.httpPort,
        binaries: () => catalog.names,
        // OVMF otherwise collects Advertises for ~6 s before taking ours.
        preference: 255,
        ...(settings.dnsServers?.some((server) => isIPv6(server)) && { dnsServers: settings.dnsServers.filter((server) => isIPv6(server)) }),
        clientState: (client) => (client ? { policy: planner.dhcpPolicy(client), history: registry.history(client) } : { policy: {}, history: {} }),
        macFor: (ip) => registry.macForIp(ip) ?? neighborMac6(ip, served.name),
        ...(pool6 && { pool: pool6 }),
        emit,
        signal: controller.signal,
      });
    // M only when our DHCPv6 hands out addresses: stateful iPXE drops an Advertise without one.
    startRa = () =>
      createRouterAdvertService({
        interfaceName: served.name,
        mac,
        prefixes,
        managed: pool6 !== undefined,
        other: true,
        routerLifetime: routerLifetime.seconds,
        emit,
        signal: controller.signal,
      });
    try {
      dhcp6 = await startDhcp6();
    } catch (error) {
      // IPv6 is an addition: its failure (port 547 taken, ff02::1:2 not joinable) must not stop IPv4 boots.
      notice('warning', `no DHCPv6: ${(error as Error).message}; IPv6-only machines will not boot from pxedeck`);
    }
    try {
      ra = await startRa();
    } catch (error) {
      notice('warning', `no router advertisements: ${(error as Error).message}; without a router on ${served.name}, firmware will not start DHCPv6`);
    }
    closers.push(async () => {
      await Promise.all([dhcp6?.close(), ra?.close()]);
    });
    return true;
  };
  if (address6) {
    prefixes = prefixesFromAddresses(served.ipv6);
    await startIpv6();
  }

  /**
   * Closes a server and opens it afresh, one reopening after another (a flapping link must not open two
   * sockets on one port); a failure is that server's error, and an opening that ends after pxedeck began
   * closing is closed again at once.
   */
  let reopening = Promise.resolve();
  const reopen = <T extends { close(): Promise<void> }>(what: { source: 'dhcp4' | 'dhcp6' | 'ra'; server: string }, current: () => T | undefined, start: () => Promise<T>, set: (fresh: T) => void) => {
    reopening = reopening.then(async () => {
      if (controller.signal.aborted) return;
      try {
        await current()?.close();
        const fresh = await start();
        if (controller.signal.aborted) await fresh.close();
        else set(fresh);
      } catch (error) {
        emit({ kind: 'server.error', time: Date.now(), source: what.source, server: what.server, message: `reopening on ${served.name}: ${(error as Error).message}` });
      }
    });
  };

  /** TFTP and HTTP on IPv6 addresses the interface gained after the start, at most a few per run. */
  const extraListeners6 = new Map<string, Array<{ close(): Promise<void> }>>();
  closers.push(async () => {
    await Promise.all([...extraListeners6.values()].flat().map((server) => server.close()));
  });
  const listenOn6 = async (address: string): Promise<void> => {
    if (address === initialAddress6 || extraListeners6.has(address)) return;
    if (extraListeners6.size >= 4) throw new Error(`TFTP and HTTP already listen on ${extraListeners6.size} IPv6 addresses besides the first; restart pxedeck to serve ${address}`);
    const tftp6 = await tftpOn([{ address, port: tftpPort }]);
    try {
      extraListeners6.set(address, [tftp6, await httpOn([{ address, port: settings.httpPort }])]);
    } catch (error) {
      await tftp6.close();
      throw error;
    }
  };

  /**
   * The interface's global/ULA IPv6 addresses changed (the watcher). Boot URLs keep naming their address while
   * the interface holds it; should it go, the next one left — TFTP and HTTP listen there too, and DHCPv6 and
   * iPXE scripts name it — or, with none left, DHCPv6 says it has no address to offer (its state and every
   * message it leaves unanswered) until one comes back. The RAs advertise the prefixes held now: at once when
   * `advertiseNow` (the link is up and the RA service is not being reopened anyway, with these prefixes). A
   * listener on an address that went stays open: it serves again if the address comes back.
   */
  const followIpv6 = (addresses: readonly string[], advertiseNow: boolean) => {
    prefixes = prefixesFromAddresses(addresses.map((entry) => ({ address: entry.replace(/\/\d+$/, ''), prefixLength: Number(entry.replace(/^.*\//, '')) })));
    if (advertiseNow) ra?.setPrefixes(prefixes);
    reopening = reopening.then(async () => {
      const previous = address6;
      const next = followUrlAddress6(previous, addresses);
      if (controller.signal.aborted || next === previous) return;
      if (next === undefined) {
        address6 = undefined;
        dhcp6?.setServerAddress(undefined, `${previous} is no longer on ${served.name}`);
        notice('warning', `${served.name} lost ${previous}, the IPv6 address in boot URLs: DHCPv6 answers no IPv6 machine until ${served.name} has a global or ULA address again`);
        return;
      }
      try {
        await listenOn6(next);
      } catch (error) {
        address6 = undefined;
        const why = `TFTP/HTTP cannot listen on ${next}: ${(error as Error).message}`;
        dhcp6?.setServerAddress(undefined, why);
        notice('warning', `${served.name}: ${why}; DHCPv6 answers no IPv6 machine`);
        return;
      }
      address6 = next;
      planner6 = planner6For(next);
      if (startDhcp6) dhcp6?.setServerAddress(next);
      // The interface had no global/ULA address at the start: DHCPv6 and RAs open now, as they would have then.
      else if (!(await startIpv6())) {
        notice('info', `${served.name} has ${next}, but no MAC address to send router advertisements from: pxedeck serves no DHCPv6 there`);
        return;
      }
      if (previous) notice('warning', `${served.name} lost ${previous}: IPv6 boot URLs name ${next} now`);
      else notice('info', `${served.name} has ${next}: IPv6 boot URLs name it`);
    });
  };

  // SO_BINDTODEVICE pins to the interface index: a replugged adapter needs fresh sockets. A link that comes
  // back (cable replugged, perhaps into another switch) keeps its sockets, but the RA service asks afresh
  // which router advertises there.
  const watcher =
    served.name === 'lo'
      ? undefined
      : watchInterface(served.name, (change) => {
          const { previous, current } = change;
          const ipv6Changed = previous.ipv6.join(' ') !== current.ipv6.join(' ');
          const state = current.present ? `${current.operstate}${current.up ? '' : ' (down)'}` : 'gone';
          // An IPv6 address alone that comes or goes is told by followIpv6, in its own words.
          if (!ipv6Changed || compareInterfaceStates(served.name, { ...previous, ipv6: [] }, { ...current, ipv6: [] })) {
            notice(current.present ? 'info' : 'warning', `${served.name} is ${state}`);
          }
          if (controller.signal.aborted) return;
          const cameUp = change.current.operstate === 'up' && change.previous.operstate !== 'up';
          if (change.needsNewSocket) {
            reopen({ source: 'dhcp4', server: 'dhcp4' }, () => dhcp, startDhcp, (fresh) => (dhcp = fresh));
            if (startDhcp6) reopen({ source: 'dhcp6', server: 'dhcp6' }, () => dhcp6, startDhcp6, (fresh) => (dhcp6 = fresh));
            if (startObserver) reopen({ source: 'dhcp4', server: 'dhcp-watch' }, () => observer, startObserver, (fresh) => (observer = fresh));
          }
          const reopensRa = startRa !== undefined && (change.needsNewSocket || cameUp);
          if (startRa && reopensRa) reopen({ source: 'ra', server: 'ra' }, () => ra, startRa, (fresh) => (ra = fresh));
          const linkUp = current.present && current.up && !['down', 'lowerlayerdown', 'notpresent'].includes(current.operstate);
          if (ipv6Changed) followIpv6(current.ipv6, linkUp && !reopensRa);
        });

  return {
    registry,
    async close() {
      watcher?.close();
      stopFollowing();
      controller.abort();
      // A reopening under way closes what it opened once it sees the abort.
      await reopening;
      await Promise.all(closers.map((close) => close()));
      leaseFile?.flush();
      lease6File?.flush();
      await eventLog.close();
    },
  };
}

async function refuseBesideForeignServer(cli: CliOptions, served: Served, emit: Emit): Promise<void> {
  const probeSocket = await openDeviceUdpSocket({ device: served.name, port: cli.dhcpClientPort ?? 68 });
  try {
    const found = await probeForDhcpServers({
      socket: probeSocket,
      mac: served.mac!,
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

/** The control API's assign body: { profile } | { menu } | { kernel, initrds, cmdline } | { target: "local" | "ignore" | "hold" }. */
function controlTarget(body: unknown, library: ReturnType<typeof loadProfileLibrary>): BootTarget {
  const value = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (typeof value.profile === 'string') {
    if (!library.profiles.has(value.profile)) throw new Error(`profile "${value.profile}" does not exist`);
    return { kind: 'profile', profile: value.profile };
  }
  if (typeof value.menu === 'string') {
    if (!library.menus.has(value.menu)) throw new Error(`menu "${value.menu}" does not exist`);
    return { kind: 'menu', menu: value.menu };
  }
  if (typeof value.kernel === 'string') {
    const initrds = Array.isArray(value.initrds) ? value.initrds.filter((item): item is string => typeof item === 'string') : [];
    return { kind: 'inline', kernel: value.kernel, initrds, cmdline: typeof value.cmdline === 'string' ? value.cmdline : '' };
  }
  if (value.target === 'local' || value.target === 'ignore' || value.target === 'hold') return { kind: value.target };
  throw new Error('give "profile", "menu", "kernel" (with "initrds", "cmdline") or "target": "local" | "ignore" | "hold"');
}

function controlOptions(body: unknown): { once?: boolean; variables?: Record<string, string> } {
  const value = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const variables =
    typeof value.variables === 'object' && value.variables !== null
      ? (Object.fromEntries(Object.entries(value.variables).filter(([, item]) => typeof item === 'string')) as Record<string, string>)
      : undefined;
  return { ...(value.once === true && { once: true }), ...(variables && { variables }) };
}

function waitForSignal(): Promise<string> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}

function isOperatorError(error: unknown): error is Error {
  return (
    error instanceof StartupError ||
    error instanceof ConfigFileError ||
    error instanceof InterfaceChoiceError ||
    error instanceof SocketOpenError ||
    error instanceof UsageError
  );
}

/** One-shot subcommands that need only the data dir, never a socket. */
function runSubcommand(name: string, argv: readonly string[]): number {
  const [flagsEnd] = [argv.indexOf('--data-dir')];
  const dataDir = resolve(flagsEnd >= 0 ? argv[flagsEnd + 1] ?? '' : join(homedir(), '.config', 'pxedeck'));
  const rest = flagsEnd >= 0 ? [...argv.slice(0, flagsEnd), ...argv.slice(flagsEnd + 2)] : [...argv];
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(name === 'assign' ? assignUsage : 'Usage: pxedeck explain --mac MAC [--arch N] [--user-class iPXE] [--data-dir DIR]\n');
    return 0;
  }
  const library = loadProfileLibrary(presetsDir, [dataDir]);
  const assignments = openAssignments(dataDir);
  if (name === 'assign') {
    process.stdout.write(`${runAssign(rest, assignments, library)}\n`);
    return 0;
  }
  const settings = openSettings(dataDir).load();
  const address = settings.interface ? safeAddress(settings.interface) : '0.0.0.0';
  const serverBase = `http://${address}${settings.httpPort === 80 ? '' : `:${settings.httpPort}`}`;
  const planner = createBootPlanner({
    serverBase,
    library: () => library,
    assignments,
    policies: openClientPolicies(dataDir),
    defaultTarget: parseTargetSetting(settings.defaultTarget)!,
  });
  const binaries = scanBootFiles(settings.bootDir ?? join(dataDir, 'boot')).names;
  process.stdout.write(`${runExplain(rest, { planner, serverAddress: address, mode: settings.mode, serverBase, binaries })}\n`);
  return 0;
}

function safeAddress(interfaceName: string): string {
  try {
    return servedInterface(interfaceName).serverAddress;
  } catch {
    return '0.0.0.0';
  }
}

/**
 * A terminal run: the Ink console. Its feed (a registry of its own) outlives the servers, so applying
 * settings restarts them while every machine keeps its record; settings changed in the console beat the
 * flags they replaced (`savedWins`).
 */
async function runConsoleMode(cli: CliOptions): Promise<number> {
  const feed = createConsoleFeed();
  const configure = (savedWins: ReadonlySet<string>): RuntimeConfig => {
    const flags = Object.fromEntries(Object.entries(cli).filter(([key]) => !savedWins.has(key))) as unknown as CliOptions;
    const settings = loadSettings(flags);
    const served = servedInterface(settings.interface);
    return {
      settings,
      flagged: ['interface', 'mode', 'pool', 'bootDir', 'httpPort'].filter((key) => key in flags),
      interfaceName: served.name,
      serverAddress: served.serverAddress,
      serverBase: `http://${served.serverAddress}${settings.httpPort === 80 ? '' : `:${settings.httpPort}`}`,
      defaultTarget: defaultTargetOf(flags, settings),
      start: () => startRuntime(flags, feed.observe, feed.registry),
    };
  };
  let initial: { config: RuntimeConfig; servers: RunningServers };
  try {
    const config = configure(new Set());
    initial = { config, servers: await config.start() };
  } catch (error) {
    if (isOperatorError(error)) {
      process.stderr.write(`pxedeck: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
  await runConsole({ feed, dataDir: dataDirOf(cli), presetsDir, configure, initial });
  return 0;
}

export async function main(argv: readonly string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === 'report') {
    try {
      const result = await runReport(rest, join(homedir(), '.config', 'pxedeck'));
      (result.exitCode === 0 ? process.stdout : process.stderr).write(`${result.output}\n`);
      return result.exitCode;
    } catch (error) {
      if (error instanceof UsageError) {
        process.stderr.write(`pxedeck report: ${error.message}\n`);
        return 2;
      }
      throw error;
    }
  }
  if (first === 'assign' || first === 'explain') {
    try {
      return runSubcommand(first, rest);
    } catch (error) {
      if (isOperatorError(error) || (error instanceof Error && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
        process.stderr.write(`pxedeck ${first}: ${error.message}\n`);
        return 2;
      }
      throw error;
    }
  }
  let cli: CliOptions;
  try {
    cli = parseCli(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`pxedeck: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  if (cli.help) {
    process.stdout.write(usage);
    return 0;
  }
  if (!cli.headless && process.stdout.isTTY) return runConsoleMode(cli);
  const print = (event: PxedeckEvent) => process.stdout.write(`${formatEventJson(event)}\n`);
  let runtime: Runtime;
  try {
    runtime = await startRuntime(cli, print);
  } catch (error) {
    if (isOperatorError(error)) {
      process.stderr.write(`pxedeck: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
  await waitForSignal();
  await runtime.close();
  return 0;
}
