/**
 * The composition root: the only file that wires settings, sockets, servers, the registry and the
 * terminal together. Everything below it receives what it needs as arguments.
 */
import type { Socket } from 'node:dgram';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { missingBinaryHint } from './boot/boot-binaries.js';
import { parseMac, type Mac } from './protocol/mac.js';
import { parseCli, usage, UsageError, type CliOptions } from './cli/args.js';
import { formatEventHuman, formatEventJson } from './cli/event-log.js';
import { scanBootFiles } from './servers/boot-files.js';
import { LeasePool } from './servers/dhcp4/lease-pool.js';
import { DEFAULT_PROBE_MS, probeForDhcpServers } from './servers/dhcp4/probe.js';
import { createDhcp4Server, type Dhcp4Server } from './servers/dhcp4/server.js';
import type { Emit, PxedeckEvent } from './servers/events.js';
import { openDeviceUdpSocket, openUdpSocket, SocketOpenError } from './servers/net/device-socket.js';
import { chooseInterface, InterfaceChoiceError, watchInterface } from './servers/net/interfaces.js';
import { openClientPolicies } from './state/client-policies.js';
import { ConfigFileError } from './state/conf-file.js';
import { openLeaseFile } from './state/lease-file.js';
import { ClientRegistry } from './state/registry.js';
import { openSettings, parsePool, type Settings } from './state/settings.js';

/** A startup problem the operator can fix; printed without a stack trace. */
class StartupError extends Error {}

interface Served {
  readonly name: string;
  readonly serverAddress: string;
  readonly subnet: string;
  readonly broadcast: string;
  readonly netmask: string;
  readonly mac?: Mac;
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
    openSocket: (port) => openDeviceUdpSocket({ device: iface.name, port }),
    replyBroadcast: '255.255.255.255',
  };
}

function suggestPool(served: Served): string {
  const [a, b, c] = served.serverAddress.split('.');
  return `${a}.${b}.${c}.100-${a}.${b}.${c}.199`;
}

export interface Runtime {
  readonly registry: ClientRegistry;
  close(): Promise<void>;
}

export async function startRuntime(cli: CliOptions, print: (event: PxedeckEvent) => void): Promise<Runtime> {
  const dataDir = cli.dataDir ?? join(homedir(), '.config', 'pxedeck');
  const saved = openSettings(dataDir).load();
  const settings: Settings = {
    ...saved,
    ...(cli.interface && { interface: cli.interface }),
    ...(cli.mode && { mode: cli.mode }),
    ...(cli.pool && { pool: cli.pool }),
    ...(cli.bootDir && { bootDir: cli.bootDir }),
    ...(cli.httpPort !== undefined && { httpPort: cli.httpPort }),
  };
  const registry = new ClientRegistry();
  const emit: Emit = (event) => {
    registry.apply(event);
    print(event);
  };
  const controller = new AbortController();
  const served = servedInterface(settings.interface);
  const catalog = scanBootFiles(settings.bootDir);
  for (const file of ['undionly.kpxe', 'ipxe.efi']) {
    if (!catalog.names.has(file)) emit({ kind: 'notice', time: Date.now(), source: 'system', level: 'warning', message: missingBinaryHint(file) });
  }
  const httpBase = `http://${served.serverAddress}${settings.httpPort === 80 ? '' : `:${settings.httpPort}`}`;
  const policies = openClientPolicies(dataDir);

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
    if (served.mac) {
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
          throw new StartupError(
            `another DHCP server already answers on ${served.name}: ${list}; fix: use --mode proxy beside it, unplug it, or --force if you are sure`,
          );
        }
      } finally {
        probeSocket.close();
      }
    }
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
      clientState: (mac) => ({ policy: policies.get(mac), history: registry.history(mac) }),
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
      emit,
      signal: controller.signal,
    });
  let dhcp: Dhcp4Server = await startDhcp();

  // SO_BINDTODEVICE pins to the interface index: a replugged adapter needs fresh sockets.
  const watcher =
    served.name === 'lo'
      ? undefined
      : watchInterface(served.name, (change) => {
          const state = change.current.present ? `${change.current.operstate}${change.current.up ? '' : ' (down)'}` : 'gone';
          emit({ kind: 'notice', time: Date.now(), source: 'system', level: change.current.present ? 'info' : 'warning', message: `${served.name} is ${state}` });
          if (!change.needsNewSocket || controller.signal.aborted) return;
          void dhcp
            .close()
            .then(startDhcp)
            .then((fresh) => {
              dhcp = fresh;
            })
            .catch((error: Error) => emit({ kind: 'server.error', time: Date.now(), source: 'dhcp4', server: 'dhcp4', message: `reopening on ${served.name}: ${error.message}` }));
        });

  return {
    registry,
    async close() {
      watcher?.close();
      controller.abort();
      await dhcp.close();
      leaseFile?.flush();
    },
  };
}

function waitForSignal(): Promise<string> {
  return new Promise((resolve) => {
    const stop = (signal: string) => resolve(signal);
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}

export async function main(argv: readonly string[]): Promise<number> {
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
  const print = cli.headless || !process.stdout.isTTY ? (event: PxedeckEvent) => process.stdout.write(`${formatEventJson(event)}\n`) : (event: PxedeckEvent) => process.stdout.write(`${formatEventHuman(event)}\n`);
  let runtime: Runtime;
  try {
    runtime = await startRuntime(cli, print);
  } catch (error) {
    if (
      error instanceof StartupError ||
      error instanceof ConfigFileError ||
      error instanceof InterfaceChoiceError ||
      error instanceof SocketOpenError
    ) {
      process.stderr.write(`pxedeck: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
  await waitForSignal();
  await runtime.close();
  return 0;
}
