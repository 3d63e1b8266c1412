/**
 * The DHCPv4 side: proxyDHCP (default) or full DHCP on UDP 67, and the PXE boot server on UDP 4011.
 * Decodes with the codec, asks the boot core, answers, and reports every packet as an event. A bad packet
 * is dropped and counted; nothing a client sends can throw out of a socket handler.
 */
import type { Socket, RemoteInfo } from 'node:dgram';
import { describeFirmware, isNetbootClient, readClientFacts, type DhcpClientFacts } from '../../boot/client-facts.js';
import { decideDhcpBoot, type ClientHistory, type ClientPolicy, type DhcpBootDecision, type DhcpDecisionInput } from '../../boot/dhcp-decision.js';
import { BOOTREQUEST, BROADCAST_FLAG, Option, messageTypeName } from '../../protocol/dhcp4/constants.js';
import { DhcpOptionsView } from '../../protocol/dhcp4/options-view.js';
import { decode, type DhcpPacket } from '../../protocol/dhcp4/packet.js';
import { encode } from '../../protocol/dhcp4/encode.js';
import type { Mac } from '../../protocol/mac.js';
import type { Emit, EventSource } from '../events.js';
import { onDatagram, sendDatagram } from '../net/datagram-guard.js';
import type { LeaseParameters } from './reply.js';
import { buildReply } from './reply.js';
import type { LeasePool, RequestState } from './lease-pool.js';
import { effectiveNewClientLimit, NewClientGate, turnedAwayWarning, type NewClientLimit } from './new-client-limit.js';

export type DhcpMode = 'proxy' | 'full';

export interface BootTargets {
  /** The URL iPXE chains to (the constant /boot.ipxe on our HTTP server). */
  readonly scriptUrl: string;
  readonly httpUrl: (file: string) => string;
  /** Boot binaries present in the boot directory, by file name. */
  readonly binaries: () => ReadonlySet<string>;
  /** x64 UEFI: what machines without a choice of their own start, and whether the signed GRUB reads HTTP. */
  readonly uefi?: Pick<DhcpDecisionInput, 'defaultUefiBootProgram' | 'signedChainOverHttp'>;
}

export interface Dhcp4ServerOptions {
  readonly mode: DhcpMode;
  /** Our IPv4 address on the served interface: siaddr, option 54, the TFTP server. */
  readonly serverAddress: string;
  readonly interfaceName?: string;
  /** Opens a UDP socket on `port` (pinned to the interface with SO_BINDTODEVICE in production). */
  readonly openSocket: (port: number) => Promise<Socket>;
  /** `relay`: where replies to a relay agent go, UDP 67 on the agent (RFC 2131 §4.1) unless told otherwise. */
  readonly ports?: { readonly dhcp?: number; readonly bootServer?: number | null; readonly client?: number; readonly relay?: number };
  /** Where replies to clients without an address go: 255.255.255.255 on a real segment. */
  readonly broadcastAddress?: string;
  readonly targets: BootTargets;
  readonly clientState: (mac: Mac) => { readonly policy: ClientPolicy; readonly history: ClientHistory };
  readonly pool?: LeasePool;
  readonly lease?: Omit<LeaseParameters, 'leaseSeconds'> & { readonly leaseSeconds?: number };
  readonly logServers?: readonly string[];
  /** Full mode: how many machines never seen before are answered per second (null: no limit). */
  readonly newClientLimit?: NewClientLimit | null;
  readonly emit: Emit;
  readonly signal?: AbortSignal;
  readonly now?: () => number;
}

export interface Dhcp4Server {
  /** Ports actually bound (useful when 0 was asked in tests). */
  readonly ports: { readonly dhcp: number; readonly bootServer: number | null };
  readonly stats: { received: number; sent: number; malformed: number; ignored: number };
  close(): Promise<void>;
}

interface Destination {
  readonly address: string;
  readonly port: number;
}

/**
 * The options with every field present, in one order: the reply path reads them per packet, and an object
 * built another way (the warm-up's copy, with its sockets and pool replaced) has another hidden class, on
 * which V8 throws away the code it compiled for the first (dhcp-warm-up.ts).
 */
function inOneShape(options: Dhcp4ServerOptions): Dhcp4ServerOptions {
  const { mode, serverAddress, interfaceName, openSocket, ports, broadcastAddress, targets, clientState, pool, lease, logServers, newClientLimit, emit, signal, now } = options;
  return { mode, serverAddress, interfaceName, openSocket, ports, broadcastAddress, targets, clientState, pool, lease, logServers, newClientLimit, emit, signal, now };
}

export async function createDhcp4Server(given: Dhcp4ServerOptions): Promise<Dhcp4Server> {
  const options = inOneShape(given);
  if (options.mode === 'full' && !options.pool) throw new Error('full DHCP mode needs an address pool (--pool FIRST-LAST)');
  const now = options.now ?? Date.now;
  const clientPort = options.ports?.client ?? 68;
  const relayPort = options.ports?.relay ?? options.ports?.dhcp ?? 67;
  const broadcast = options.broadcastAddress ?? '255.255.255.255';
  const stats = { received: 0, sent: 0, malformed: 0, ignored: 0 };
  const sockets: Socket[] = [];
  const { emit } = options;
  const foreignServers = new Set<string>();
  /** ACKs wait for the disk: one whose lease lands after close is not sent. */
  let closed = false;
  const newClientLimit = effectiveNewClientLimit(options.newClientLimit);
  const newClients =
    options.mode === 'full' && newClientLimit
      ? new NewClientGate(newClientLimit, now, (count) =>
          emit({ kind: 'notice', time: now(), source: 'dhcp4', level: 'warning', message: turnedAwayWarning(count, newClientLimit) }),
        )
      : undefined;

  const dhcpSocket = await options.openSocket(options.ports?.dhcp ?? 67);
  sockets.push(dhcpSocket);
  const bootServerPort = options.ports?.bootServer === undefined ? 4011 : options.ports.bootServer;
  let bootSocket: Socket | null = null;
  try {
    if (bootServerPort !== null) {
      bootSocket = await options.openSocket(bootServerPort);
      sockets.push(bootSocket);
    }
  } catch (error) {
    dhcpSocket.close();
    throw error;
  }

  function decide(facts: DhcpClientFacts): DhcpBootDecision {
    const state = options.clientState(facts.mac);
    return decideDhcpBoot({
      facts,
      policy: state.policy,
      history: state.history,
      now: now(),
      scriptUrl: options.targets.scriptUrl,
      httpUrl: options.targets.httpUrl,
      binaries: options.targets.binaries(),
      ...options.targets.uefi,
    });
  }

  function ignore(source: EventSource, facts: DhcpClientFacts, packet: DhcpPacket, reason: string): void {
    stats.ignored += 1;
    const otherServer = facts.messageType === 'REQUEST' && facts.serverId && facts.serverId !== options.serverAddress ? facts.serverId : undefined;
    emit({ kind: 'dhcp.ignored', time: now(), source, mac: facts.mac, xid: packet.xid, reason, ...(otherServer && { otherServer }) });
  }

  function send(source: EventSource, socket: Socket, reply: DhcpPacket, request: DhcpPacket, facts: DhcpClientFacts, to: Destination, decision?: DhcpBootDecision): void {
    const maxSize = request.options.get(Option.MAX_MESSAGE_SIZE);
    const bytes = encode(reply, { maxMessageSize: maxSize?.length === 2 ? maxSize.readUInt16BE(0) : undefined });
    const sent = sendDatagram(socket, bytes, to, (message) => emit({ kind: 'server.error', time: now(), source, server: source, message }));
    if (!sent) return;
    stats.sent += 1;
    const type = reply.options.get(Option.MESSAGE_TYPE)![0]!;
    const yiaddr = reply.yiaddr !== '0.0.0.0' ? reply.yiaddr : undefined;
    emit({
      kind: 'dhcp.sent',
      time: now(),
      source,
      mac: facts.mac,
      xid: reply.xid,
      messageType: messageTypeName(type) ?? String(type),
      peer: `${to.address}:${to.port}`,
      summary: decision?.action === 'boot' ? decision.reason : decision?.action === 'ignore' ? decision.reason : 'address only',
      options: DhcpOptionsView.of(reply.options),
      interface: options.interfaceName,
      yiaddr,
      ip: yiaddr,
      bootFile: reply.options.get(Option.BOOTFILE_NAME)?.toString('latin1') || undefined,
    });
  }

  /** RFC 2131 §4.1: relay → giaddr; NAK and clients without an address → broadcast; renewing → unicast. */
  function destinationFor(request: DhcpPacket, isNak: boolean): Destination {
    if (request.giaddr !== '0.0.0.0') return { address: request.giaddr, port: relayPort };
    if (!isNak && request.ciaddr !== '0.0.0.0') return { address: request.ciaddr, port: clientPort };
    return { address: broadcast, port: clientPort };
  }

  function leaseParameters(): LeaseParameters {
    const lease = options.lease!;
    return { ...lease, leaseSeconds: lease.leaseSeconds ?? 3600 };
  }

  function noteForeignServer(facts: DhcpClientFacts): void {
    if (!facts.serverId || facts.serverId === options.serverAddress || foreignServers.has(facts.serverId)) return;
    foreignServers.add(facts.serverId);
    emit({ kind: 'dhcp.foreign-server', time: now(), source: 'dhcp4', server: facts.serverId, mac: facts.mac });
  }

  function proxyDelivery(facts: DhcpClientFacts): 'file' | 'steer' {
    if (facts.firmware !== 'uefi-pxe') return 'file';
    return options.clientState(facts.mac).policy.proxyDelivery === 'offer' ? 'file' : 'steer';
  }

  function handleProxy(packet: DhcpPacket, facts: DhcpClientFacts): void {
    if (facts.messageType !== 'DISCOVER') {
      noteForeignServer(facts);
      const why =
        facts.messageType === 'REQUEST'
          ? `proxy mode: a ${facts.messageType} for ${facts.serverId ?? 'the site DHCP server'} is the site server's to answer`
          : `proxy mode answers only DISCOVER on port 67 (got ${facts.messageType ?? 'no message type'})`;
      return ignore('dhcp4', facts, packet, why);
    }
    if (!isNetbootClient(facts)) {
      return ignore('dhcp4', facts, packet, 'proxy mode answers only PXE/HTTP-boot clients (option 60 PXEClient/HTTPClient) and iPXE');
    }
    const decision = decide(facts);
    if (decision.action === 'ignore') return ignore('dhcp4', facts, packet, decision.reason);
    const reply = buildReply({
      request: packet,
      facts,
      messageType: 'OFFER',
      serverAddress: options.serverAddress,
      decision,
      delivery: proxyDelivery(facts),
      ...(options.logServers && { logServers: options.logServers }),
    });
    send('dhcp4', dhcpSocket, reply, packet, facts, destinationFor(packet, false), decision);
  }

  function replyFull(
    packet: DhcpPacket,
    facts: DhcpClientFacts,
    messageType: 'OFFER' | 'ACK',
    yiaddr: string,
    withLeaseTime = true,
  ): void {
    const decision = isNetbootClient(facts) ? decide(facts) : undefined;
    const lease = leaseParameters();
    const reply = buildReply({
      request: packet,
      facts,
      messageType,
      serverAddress: options.serverAddress,
      yiaddr,
      lease,
      ...(decision && { decision }),
      ...(options.logServers && { logServers: options.logServers }),
    });
    if (!withLeaseTime) {
      for (const code of [Option.LEASE_TIME, Option.RENEWAL_TIME, Option.REBINDING_TIME]) reply.options.delete(code);
    }
    send('dhcp4', dhcpSocket, reply, packet, facts, destinationFor(packet, false), decision);
    if (messageType === 'ACK' && withLeaseTime) {
      const granted = options.pool!.leaseFor(facts.mac);
      emit({ kind: 'lease.granted', time: now(), source: 'dhcp4', mac: facts.mac, ip: yiaddr, ...(granted && { expiresAt: granted.expiresAt }) });
    }
  }

  function nak(packet: DhcpPacket, facts: DhcpClientFacts, message: string): void {
    const reply = buildReply({ request: packet, facts, messageType: 'NAK', serverAddress: options.serverAddress, message });
    send('dhcp4', dhcpSocket, reply, packet, facts, destinationFor(packet, true), { action: 'ignore', reason: message });
  }

  function handleFull(packet: DhcpPacket, facts: DhcpClientFacts): void {
    const pool = options.pool!;
    const hostname = facts.hostname;
    if (options.clientState(facts.mac).policy.ignore) return ignore('dhcp4', facts, packet, 'the operator set this machine to be ignored');
    switch (facts.messageType) {
      case 'DISCOVER': {
        const ip = pool.offer(facts.mac, facts.requestedIp);
        if (!ip) return ignore('dhcp4', facts, packet, `the pool is exhausted: all ${pool.size} addresses are leased or held`);
        return replyFull(packet, facts, 'OFFER', ip);
      }
      case 'REQUEST': {
        if (facts.serverId && facts.serverId !== options.serverAddress) {
          noteForeignServer(facts);
          return ignore('dhcp4', facts, packet, `REQUEST is for another server (${facts.serverId})`);
        }
        const ip = facts.requestedIp ?? (packet.ciaddr !== '0.0.0.0' ? packet.ciaddr : undefined);
        if (!ip) return ignore('dhcp4', facts, packet, 'REQUEST names no address (no option 50 and no ciaddr)');
        // RFC 2131 §4.3.2: our server id → SELECTING; none and no ciaddr → INIT-REBOOT; ciaddr → RENEWING/REBINDING.
        const state: RequestState = facts.serverId ? 'selecting' : packet.ciaddr === '0.0.0.0' ? 'init-reboot' : 'renewing';
        if (state === 'init-reboot' && !pool.onSubnet(ip)) return nak(packet, facts, `${ip} is not on this network`);
        // The ACK goes out once the lease is on disk, so a crash never forgets an address a client was given.
        const outcome = pool.request(facts.mac, ip, state, hostname, () => {
          if (!closed) replyFull(packet, facts, 'ACK', ip);
        });
        if (outcome.ok) return;
        // RFC 2131 §4.3.2: a client we hold no record of gets silence, not a NAK.
        if (outcome.silent) return ignore('dhcp4', facts, packet, outcome.reason);
        return nak(packet, facts, outcome.reason);
      }
      case 'DECLINE': {
        if (facts.serverId && facts.serverId !== options.serverAddress) return ignore('dhcp4', facts, packet, 'DECLINE for another server');
        const ip = facts.requestedIp;
        if (!ip || !pool.decline(facts.mac, ip)) return ignore('dhcp4', facts, packet, `DECLINE of ${ip ?? 'no address'} that is not this client's`);
        emit({ kind: 'lease.declined', time: now(), source: 'dhcp4', mac: facts.mac, ip });
        return;
      }
      case 'RELEASE': {
        if (!pool.release(facts.mac, packet.ciaddr)) return ignore('dhcp4', facts, packet, `RELEASE of ${packet.ciaddr}, which is not leased to this client`);
        emit({ kind: 'lease.released', time: now(), source: 'dhcp4', mac: facts.mac, ip: packet.ciaddr });
        return;
      }
      case 'INFORM':
        if (packet.ciaddr === '0.0.0.0') return ignore('dhcp4', facts, packet, 'INFORM without ciaddr');
        return replyFull(packet, facts, 'ACK', '0.0.0.0', false);
      default:
        return ignore('dhcp4', facts, packet, `message type ${facts.messageType ?? 'missing'} is not one a server answers`);
    }
  }

  /** PXE boot server: UEFI firmware (after a steering proxy offer) and iPXE's ProxyDHCP REQUEST land here. */
  function handleBootServer(socket: Socket, packet: DhcpPacket, facts: DhcpClientFacts, rinfo: RemoteInfo): void {
    if (facts.messageType !== 'REQUEST' && facts.messageType !== 'INFORM') {
      return ignore('pxe4011', facts, packet, `the boot server answers REQUEST and INFORM (got ${facts.messageType ?? 'no message type'})`);
    }
    if (!isNetbootClient(facts)) return ignore('pxe4011', facts, packet, 'not a PXE client (no PXEClient vendor class)');
    const decision = decide(facts);
    if (decision.action === 'ignore') return ignore('pxe4011', facts, packet, decision.reason);
    const reply = buildReply({
      request: packet,
      facts,
      messageType: 'ACK',
      serverAddress: options.serverAddress,
      decision,
      delivery: 'file',
      echoBootItem: true,
      ...(options.logServers && { logServers: options.logServers }),
    });
    // OVMF asks from its new address (unicast back); iPXE may ask with the broadcast flag before it has
    // one, and then only a broadcast reaches it.
    const unicast = (packet.flags & BROADCAST_FLAG) === 0 && rinfo.address !== '0.0.0.0';
    send('pxe4011', socket, reply, packet, facts, { address: unicast ? rinfo.address : broadcast, port: rinfo.port }, decision);
  }

  function dropMalformed(source: EventSource, rinfo: RemoteInfo, length: number, error: unknown, prefix = ''): void {
    stats.malformed += 1;
    emit({
      kind: 'packet.malformed',
      time: now(),
      source,
      peer: `${rinfo.address}:${rinfo.port}`,
      error: `${prefix}${error instanceof Error ? error.message : String(error)}`,
      length,
      count: stats.malformed,
    });
  }

  function onMessage(source: EventSource, socket: Socket, bytes: Buffer, rinfo: RemoteInfo): void {
    stats.received += 1;
    let packet: DhcpPacket;
    try {
      packet = decode(bytes);
    } catch (error) {
      return dropMalformed(source, rinfo, bytes.length, error);
    }
    try {
      if (packet.op !== BOOTREQUEST || packet.hlen !== 6) {
        stats.ignored += 1;
        return;
      }
      const facts = readClientFacts(packet);
      // A flood of made-up MACs is turned away before it costs an event each (counted once a second instead).
      if (newClients && source === 'dhcp4' && facts.messageType === 'DISCOVER' && options.pool!.isNewClient(facts.mac) && !newClients.admit()) {
        stats.ignored += 1;
        return;
      }
      const client = describeFirmware(facts);
      // One object literal, absent fields left undefined (JSON leaves them out): this runs for every packet.
      emit({
        kind: 'dhcp.received',
        time: now(),
        source,
        mac: facts.mac,
        xid: packet.xid,
        messageType: facts.messageType ?? 'none',
        peer: `${rinfo.address}:${rinfo.port}`,
        summary: `${facts.messageType ?? 'BOOTP'} from ${client}`,
        client,
        secs: packet.secs,
        options: DhcpOptionsView.of(packet.options),
        interface: options.interfaceName,
        ip: packet.ciaddr !== '0.0.0.0' ? packet.ciaddr : undefined,
      });
      if (source === 'pxe4011') handleBootServer(socket, packet, facts, rinfo);
      else if (options.mode === 'full') handleFull(packet, facts);
      else handleProxy(packet, facts);
    } catch (error) {
      dropMalformed(source, rinfo, bytes.length, error, 'could not be answered: ');
    }
  }

  const guard = (source: EventSource) => ({ source, emit, now, countDropped: () => (stats.malformed += 1) });
  onDatagram(dhcpSocket, guard('dhcp4'), (bytes, rinfo) => onMessage('dhcp4', dhcpSocket, bytes, rinfo));
  if (bootSocket) onDatagram(bootSocket, guard('pxe4011'), (bytes, rinfo) => onMessage('pxe4011', bootSocket, bytes, rinfo));
  for (const socket of sockets) {
    socket.on('error', (error) => emit({ kind: 'server.error', time: now(), source: 'dhcp4', server: 'dhcp4', message: error.message }));
  }

  const ports = { dhcp: dhcpSocket.address().port, bootServer: bootSocket ? bootSocket.address().port : null };
  emit({ kind: 'server.listening', time: now(), source: 'dhcp4', server: `dhcp4-${options.mode}`, address: `${options.serverAddress}:${ports.dhcp}` });
  if (bootSocket) emit({ kind: 'server.listening', time: now(), source: 'pxe4011', server: 'pxe-boot-server', address: `${options.serverAddress}:${ports.bootServer}` });

  let closing: Promise<void> | null = null;
  function close(): Promise<void> {
    closed = true;
    newClients?.close();
    closing ??= Promise.all(sockets.map((socket) => new Promise<void>((resolve) => socket.close(() => resolve())))).then(() => {
      emit({ kind: 'server.closed', time: now(), source: 'dhcp4', server: `dhcp4-${options.mode}` });
    });
    return closing;
  }
  options.signal?.addEventListener('abort', () => void close(), { once: true });

  return { ports, stats, close };
}

