/**
 * One start of pxedeck's servers on the bench interface, as the settings and flags describe it: the stores,
 * the boot planners, TFTP, HTTP, syslog, the control API, DHCP (and the reply observer on 68), IPv6, and the
 * interface watcher that reopens sockets when the adapter is replugged. The console calls it again to apply
 * settings; headless runs call it once.
 */
import type { BootTarget } from '../boot/boot-target.js';
import type { CliOptions } from '../cli/args.js';
import { askBootApi } from '../servers/boot-api-client.js';
import { startReplyObserver } from '../servers/dhcp4/reply-observer.js';
import { createDhcp4Server, type Dhcp4Server, type Dhcp4ServerOptions } from '../servers/dhcp4/server.js';
import type { PxedeckEvent } from '../servers/events.js';
import { serialiseEvent, type SerialisedEvent } from '../servers/event-json.js';
import { cacheLimitBytes } from '../servers/http/cache-limit.js';
import { createControlApi } from '../servers/http/control-api.js';
import { UpstreamCache } from '../servers/http/upstream-cache.js';
import { createHttpServer, type HttpBind, type HttpServer } from '../servers/http/server.js';
import { openDeviceUdpSocket } from '../servers/net/device-socket.js';
import { SocketOpenError } from '../servers/net/socket-open-error.js';
import { compareInterfaceStates, watchInterface } from '../servers/net/interface-watch.js';
import { neighborMac } from '../servers/net/neighbors.js';
import { neighborMac6 } from '../servers/net/neighbors6.js';
import { createSyslogServer, DEFAULT_SYSLOG_PORT } from '../servers/syslog/server.js';
import { createTftpServer, type TftpBind, type TftpServer } from '../servers/tftp/server.js';
import { openAssignments } from '../state/assignments.js';
import { openClientPolicies } from '../state/client-policies.js';
import { openLeaseFile } from '../state/lease-file.js';
import { formatProblem, profileLibraryLoader } from '../state/profile-library.js';
import { ClientRegistry } from '../state/registry.js';
import { routerLifetimeOf } from '../state/settings.js';
import { isIPv6 } from 'node:net';
import { join, resolve } from 'node:path';
import { createBootFileResolver } from './boot-file-resolver.js';
import { controlHandlers } from './control-adapter.js';
import { controlTokenOf } from './control-token.js';
import { makeDataDirPrivate } from './data-dir.js';
import { openEventSink } from './event-sink.js';
import { openLeasePool, refuseBesideForeignServer, refuseOnUplink } from './full-dhcp.js';
import { openRuntimeIsos } from './runtime-isos.js';
import { leaseStoreEvent, openWatchedLeaseFile } from './lease-store-state.js';
import { firstUrlAddress, ipv6OnlyNotice, startIpv6Services } from './ipv6-services.js';
import { StartupError } from './operator-error.js';
import { createPlannerSet } from './planners.js';
import { rememberSecureBoot } from './secure-boot-memory.js';
import { upstreamFileFor } from './upstream-file.js';
import { dataDirOf, defaultTargetOf, loadSettings, presetsDir } from './runtime-settings.js';
import { httpBaseOf, servedInterface, type Served4 } from './served-interface.js';
import { ServerSet, type Closable } from './server-set.js';
import { trimWhenQuiet } from './malloc-trim.js';
import { defaultWarmUpExchanges, startDhcpWarmUp } from './dhcp-warm-up.js';

export interface Runtime {
  readonly registry: ClientRegistry;
  close(): Promise<void>;
}

/** `registry`: the console's server thread passes one that outlives each start, so a settings restart keeps every machine's history (runtime-worker.ts). */
export async function startRuntime(cli: CliOptions, print: (event: PxedeckEvent, serialised: SerialisedEvent) => void, registry = new ClientRegistry()): Promise<Runtime> {
  const dataDir = dataDirOf(cli);
  const tightened = makeDataDirPrivate(dataDir);
  const settings = loadSettings(cli);
  const routerLifetime = routerLifetimeOf(settings);
  if ('problem' in routerLifetime) throw new StartupError(routerLifetime.problem);
  // Every event, also those emitted while starting, so `pxedeck report MAC` can tell a session afterwards.
  const policies = openClientPolicies(dataDir);
  const { emit, notice, close: closeEventLog } = openEventSink(dataDir, registry, print, (mac, verdict) => rememberSecureBoot(policies, mac, verdict));
  for (const message of tightened) notice('warning', message);
  const served = servedInterface(settings.interface);
  // Absent on an IPv6-only bench port: no DHCPv4, no PXE boot server, no IPv4 listeners.
  const served4 = served.ipv4;
  const servers = new ServerSet(emit, served.name);
  const signal = servers.signal;
  const assignments = openAssignments(dataDir);
  const bootDir = resolve(settings.bootDir ?? join(dataDir, 'boot'));
  const loadLibraryFiles = profileLibraryLoader(presetsDir, [dataDir]);
  const yamlLibrary = loadLibraryFiles();
  for (const problem of yamlLibrary.problems) notice('warning', formatProblem(problem));
  const isos = await openRuntimeIsos({ cli, dataDir, bootDir, base: yamlLibrary, notice });
  servers.afterClose(() => void isos.library.close());
  let library = isos.library.merge(yamlLibrary);
  const planners = createPlannerSet({
    address4: served4?.address,
    address6: firstUrlAddress(served),
    httpPort: settings.httpPort,
    library: () => library,
    assignments,
    policies,
    defaultTarget: isos.quickTarget ?? defaultTargetOf(cli, settings),
  });
  const planner = planners.main;
  // One upstream cache for HTTP (iPXE) and TFTP (the signed GRUB reads kernels that are URLs by TFTP).
  const upstreamCache = new UpstreamCache({ cacheDir: join(dataDir, 'cache'), limitBytes: cacheLimitBytes(settings.upstreamCacheGiB), emit });
  servers.onClose(() => upstreamCache.close());
  const bootFiles = createBootFileResolver({
    bootDir,
    presetsDir,
    planner,
    warn: (message) => notice('warning', message),
    onGrubBeacon: (mac, ip) => {
      emit({ kind: 'boot.beacon', time: Date.now(), source: 'tftp', beacon: 'booted', mac, ip });
      assignments.consumeOnce(mac, Date.now());
    },
    upstreamFile: (url) => upstreamFileFor(upstreamCache, join(dataDir, 'cache'), url),
  });
  const uefi = { defaultUefiBootProgram: settings.uefiBootProgram ?? 'ipxe', signedChainOverHttp: bootFiles.signedChainOverHttp } as const;
  const liveMacOf = (ip: string) => (isIPv6(ip) ? neighborMac6(ip, served.name) : neighborMac(ip));
  const macOf = (ip: string) => registry.macForIp(ip) ?? liveMacOf(ip);

  if (settings.mode === 'dhcp') refuseOnUplink(served, cli.allowDhcpOnUplink === true);
  if (!served4) notice('info', ipv6OnlyNotice(served.name, served.serverAddress, settings, cli.pool6));
  const leaseFile = settings.mode === 'dhcp' && served4 ? openWatchedLeaseFile('leases', dataDir, openLeaseFile, emit, notice) : undefined;
  const pool = leaseFile && served4 ? openLeasePool(settings, served4, leaseFile) : undefined;
  if (leaseFile) servers.afterClose(() => leaseFile.close());
  if (pool) await refuseBesideForeignServer(cli, served, emit);

  // Option 7: iPXE sends its console lines to the syslog receiver (to port 514, always); set once it listens.
  let syslogAddress: string | undefined;
  const dnsServers4 = (settings.dnsServers ?? []).filter((server) => !isIPv6(server));
  // One closure site for the real server and its warm-up: V8 learns per site (dhcp-warm-up.ts).
  const clientStateIn =
    (from: ClientRegistry): Dhcp4ServerOptions['clientState'] =>
    (mac) => ({ policy: planner.dhcpPolicy(mac), history: from.history(mac) });
  const dhcpOptionsOn = (on: Served4): Dhcp4ServerOptions => {
    const httpBase = httpBaseOf(on.address, settings.httpPort);
    return {
      mode: pool ? 'full' : 'proxy',
      serverAddress: on.address,
      interfaceName: served.name,
      openSocket: served.openSocket,
      ports: {
        ...(cli.dhcpPort !== undefined && { dhcp: cli.dhcpPort }),
        ...(cli.bootServerPort !== undefined && { bootServer: cli.bootServerPort }),
        ...(cli.dhcpClientPort !== undefined && { client: cli.dhcpClientPort }),
      },
      broadcastAddress: on.replyBroadcast,
      targets: {
        scriptUrl: `${httpBase}/boot.ipxe`,
        httpUrl: (file) => `${httpBase}/${file}`,
        binaries: bootFiles.binaries,
        uefi,
      },
      clientState: clientStateIn(registry),
      ...(pool && {
        pool,
        lease: {
          subnetMask: on.netmask,
          broadcastAddress: on.broadcast,
          leaseSeconds: settings.leaseSeconds,
          ...(settings.routers && { routers: settings.routers }),
          ...(dnsServers4.length > 0 && { dnsServers: dnsServers4 }),
        },
      }),
      ...(syslogAddress && { logServers: [syslogAddress] }),
      ...(cli.newMacsPerSecond !== undefined && {
        newClientLimit: cli.newMacsPerSecond === 0 ? null : { perSecond: cli.newMacsPerSecond, burst: 4 * cli.newMacsPerSecond },
      }),
      emit,
      signal,
    };
  };
  const startDhcp = (on: Served4) => createDhcp4Server(dhcpOptionsOn(on));

  // Started only once nothing before it can refuse to start: a live watcher keeps the process running.
  const reloadLibrary = () => {
    library = isos.library.merge(loadLibraryFiles());
  };
  const stopWatchingIsos = isos.watch(loadLibraryFiles, reloadLibrary);
  const stopFollowing = assignments.follow((mac) => {
    reloadLibrary();
    if (mac) notice('info', `${mac}: assignment changed (${JSON.stringify(assignments.get(mac)?.target ?? 'default')})`);
  });
  const tftpPort = cli.tftpPort ?? 69;
  const tftpOn = (bind: readonly TftpBind[]): Promise<TftpServer> =>
    createTftpServer({
      bind,
      root: [bootFiles.bootDir],
      emit,
      signal,
      resolveVirtual: (path, client) => isos.tftpFile(path) ?? bootFiles.resolveTftp(path, client),
      // GRUB asks for `/grub/grub.cfg` and `/vmlinuz`: from the root, as tftpd-hpa --secure reads them.
      absolutePaths: 'root-relative',
      macForAddress: macOf,
      blksizeCapFor: (client) => (client.mac ? policies.get(client.mac).blksizeCap : undefined),
      ...(settings.tftpBlksizeCap !== undefined && { blksizeCap: settings.tftpBlksizeCap }),
    });
  const httpOn = (bind: readonly HttpBind[]): Promise<HttpServer> =>
    createHttpServer({
      bind,
      emit,
      signal,
      renderIpxeScript: async (request) => {
        let external: BootTarget | undefined;
        if (settings.bootApi) {
          const answer = await askBootApi(settings.bootApi, request);
          if (answer.kind === 'target') external = answer.target;
          else if (answer.kind === 'unavailable') notice('warning', `${request.mac}: boot API ${answer.reason}; using the local assignment`);
        }
        const result = planners.forIp(request.ip).renderIpxe({ ...request, ...(external && { external }) });
        return result.ok ? { script: result.text, ...(result.note && { note: result.note }) } : { status: result.status, message: result.message };
      },
      roots: bootFiles.httpRoots,
      namedFiles: bootFiles.namedFiles,
      isoFiles: (rest) => isos.library.resolve(rest),
      upstream: { cacheDir: join(dataDir, 'cache'), limitBytes: cacheLimitBytes(settings.upstreamCacheGiB), lookup: planners.upstreamUrl, shared: upstreamCache },
      macForIp: macOf,
      liveMacForIp: liveMacOf,
      onBeacon: (beacon, mac) => {
        if (beacon === 'booted') assignments.consumeOnce(mac, Date.now());
      },
    });
  const initialAddress6 = firstUrlAddress(served);
  // Every address pxedeck serves: IPv4 (if any) and the interface's first global/ULA IPv6 address (if any).
  const addresses = [...(served4 ? [served4.address] : []), ...(initialAddress6 ? [initialAddress6] : [])];
  const syslogPort = cli.syslogPort ?? DEFAULT_SYSLOG_PORT;
  const syslogOn = (on: readonly string[]) =>
    createSyslogServer({ bind: on.map((address) => ({ address, port: syslogPort })), emit, signal, macForIp: macOf });

  let dhcp: Dhcp4Server | undefined;
  try {
    servers.add(await tftpOn(addresses.map((address) => ({ address, port: tftpPort }))));
    servers.add(await httpOn(addresses.map((address) => ({ address, port: settings.httpPort }))));
    // A host syslog daemon may already hold UDP 514: pxedeck then runs without it rather than not at all.
    try {
      servers.add(await syslogOn(addresses));
      syslogAddress = served4?.address;
    } catch (error) {
      if (!(error instanceof SocketOpenError)) throw error;
      notice('warning', `no syslog receiver: ${error.message}; machines' log lines will not be shown (DHCP option 7 left out)`);
    }
    if (settings.controlPort !== 0) {
      const control = controlTokenOf(dataDir, settings.controlToken, join(dataDir, 'settings.json'));
      if (control.generated) {
        // Printed, never logged: the event log may be shared in a bug report; the file is the token's one copy.
        const shown: PxedeckEvent = { kind: 'notice', time: Date.now(), source: 'system', level: 'info', message: `control API token, made now and shown once: ${control.token} (kept in ${control.path}, mode 0600; send "Authorization: Bearer <token>")` };
        print(shown, serialiseEvent(shown));
      }
      try {
        servers.add(
          await createControlApi({
            port: settings.controlPort,
            token: control.token,
            emit,
            signal,
            handlers: controlHandlers({ registry, assignments, planner, library: () => library, bootDir: bootFiles.bootDir }),
          }),
        );
        notice('info', `control API on 127.0.0.1:${settings.controlPort}: every request needs the bearer token in ${control.path}`);
      } catch (error) {
        // The machines boot without it, as without syslog: a second pxedeck on this host must not stop the first's bench.
        if (!(error instanceof SocketOpenError)) throw error;
        notice('warning', `no control API: ${error.message}`);
      }
    }
    if (served4) {
      const dhcpOptions = dhcpOptionsOn(served4);
      dhcp = await createDhcp4Server(dhcpOptions);
      startDhcpWarmUp({ server: dhcpOptions, clientStateIn, exchanges: cli.dhcpWarmUp ?? defaultWarmUpExchanges(dhcpOptions), signal, notice });
    }
    else for (const server of ['dhcp4', 'pxe-boot-server', 'dhcp-watch']) emit({ kind: 'server.not-applicable', time: Date.now(), source: server === 'pxe-boot-server' ? 'pxe4011' : 'dhcp4', server, message: `${served.name} has no IPv4 address (IPv6 only)` });
  } catch (error) {
    // A start that fails half-way closes what it opened, so a refused start exits instead of lingering.
    await servers.close();
    stopFollowing();
    stopWatchingIsos();
    await closeEventLog();
    throw error;
  }
  if (leaseFile) emit(leaseStoreEvent('server.listening', 'leases', leaseFile.path));
  const dhcpSlot = served4 ? servers.slot({ source: 'dhcp4', server: 'dhcp4' }, dhcp, () => startDhcp(served4)) : undefined;
  // Other servers' broadcast replies on UDP 68, shared with the laptop's DHCP client; loopback has none to
  // overhear. A placeholder where it could not bind (it said why).
  const startObserver = async () =>
    (await startReplyObserver({
      openSocket: (port) => openDeviceUdpSocket({ device: served.name, port, reuseAddress: true }),
      port: cli.dhcpClientPort ?? 68,
      ownAddresses: served4 ? [served4.address] : [],
      interfaceName: served.name,
      emit,
      signal,
    })) ?? { close: () => Promise.resolve() };
  const observerSlot = served.name === 'lo' || !served4 ? undefined : servers.slot({ source: 'dhcp4', server: 'dhcp-watch' }, await startObserver(), startObserver);

  const ipv6 = await startIpv6Services({
    served,
    settings,
    pool6: cli.pool6,
    dataDir,
    routerLifetimeSeconds: routerLifetime.seconds,
    binaries: bootFiles.binaries,
    uefi,
    planners,
    registry,
    servers,
    emit,
    notice,
    listenOn: async (address) => {
      const listeners: Closable[] = [];
      try {
        listeners.push(await tftpOn([{ address, port: tftpPort }]));
        listeners.push(await httpOn([{ address, port: settings.httpPort }]));
        // Installers booted by the scripts that name this address send their log here.
        try {
          listeners.push(await syslogOn([address]));
        } catch (error) {
          if (!(error instanceof SocketOpenError)) throw error;
          notice('warning', `no syslog receiver on ${address}: ${error.message}`);
        }
        return listeners;
      } catch (error) {
        await Promise.all(listeners.map((listener) => listener.close()));
        throw error;
      }
    },
  });

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
          // An IPv6 address alone that comes or goes is told by the IPv6 service, in its own words.
          if (!ipv6Changed || compareInterfaceStates(served.name, { ...previous, ipv6: [] }, { ...current, ipv6: [] })) {
            notice(current.present ? 'info' : 'warning', `${served.name} is ${state}`);
          }
          if (servers.stopping) return;
          const cameUp = current.operstate === 'up' && previous.operstate !== 'up';
          if (change.needsNewSocket) {
            dhcpSlot?.reopen();
            ipv6.reopenSockets();
            observerSlot?.reopen();
          }
          const reopensRa = ipv6.canReopenAdverts && (change.needsNewSocket || cameUp);
          if (reopensRa) ipv6.reopenAdverts();
          const linkUp = current.present && current.up && !['down', 'lowerlayerdown', 'notpresent'].includes(current.operstate);
          if (ipv6Changed) ipv6.follow(current.ipv6, linkUp && !reopensRa);
        });

  // What a load leaves in the C library's free lists goes back to the kernel once the process is quiet.
  const stopTrimming = trimWhenQuiet();
  return {
    registry,
    async close() {
      stopTrimming();
      watcher?.close();
      stopFollowing();
      stopWatchingIsos();
      await servers.close();
      await closeEventLog();
    },
  };
}
