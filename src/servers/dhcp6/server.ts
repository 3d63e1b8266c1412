/**
 * The DHCPv6 side (RFC 8415) on UDP 547: `full` hands out IA_NA addresses from a pool and boot options;
 * `stateless` runs beside another DHCPv6 server and hands out boot options only — a full Reply to
 * Information-request, and to a netboot client's Solicit an Advertise without addresses (status
 * NoAddrsAvail, RFC 8415 §18.3.1) carrying the boot file URL, for firmware that merges boot offers.
 * Every message is an event; a malformed one is counted and dropped, nothing escapes the socket handler.
 *
 * Boot URLs name our global/ULA address on the segment. Should the interface lose it, the server has no
 * address to offer: it says so as its state (server.error, until setServerAddress gives it one again) and
 * ignores, with that reason, every message whose answer would carry a URL; Confirm, Release and Decline
 * need no URL and are still answered.
 */
import type { RemoteInfo, Socket } from 'node:dgram';
import { describeFirmware } from '../../boot/client-facts.js';
import { decideDhcp6Boot, type Dhcp6BootDecision, type Dhcp6DecisionInput } from '../../boot/dhcp6-decision.js';
import { isNetboot6Client, readDhcp6ClientFacts, type Dhcp6ClientFacts } from '../../boot/dhcp6-facts.js';
import type { ClientHistory, ClientPolicy } from '../../boot/dhcp-decision.js';
import { ALL_DHCP_SERVERS, CLIENT_PORT, ENTERPRISE_INTEL, MessageType, Option, StatusCode, messageTypeName } from '../../protocol/dhcp6/constants.js';
import { describeOptions6 } from '../../protocol/dhcp6/describe.js';
import {
  encodeAddressList,
  encodeBootFileUrl,
  encodeIaAddress,
  encodeIaNa,
  encodeStatus,
  encodeVendorClass,
} from '../../protocol/dhcp6/options.js';
import { decode, encode, findOption, option, type Dhcp6ClientServerMessage, type Dhcp6Option } from '../../protocol/dhcp6/packet.js';
import type { Mac } from '../../protocol/mac.js';
import type { Emit } from '../events.js';
import { onDatagram, sendDatagram } from '../net/datagram-guard.js';
import type { Lease6Pool } from './lease-pool6.js';

export type Dhcp6Mode = 'stateless' | 'full';

export interface Dhcp6ServerOptions {
  readonly mode: Dhcp6Mode;
  /** Our global or ULA address on the segment: what boot URLs name (link-local cannot go in a URL usefully); undefined: none. */
  readonly serverAddress: string | undefined;
  /** Server identifier option value (a DUID, e.g. DUID-LL of the interface MAC). */
  readonly serverDuid: Buffer;
  readonly interfaceName?: string;
  readonly openSocket: (port: number) => Promise<Socket>;
  /** Join ff02::1:2 on this interface (a real segment); tests on loopback send unicast instead. */
  readonly multicastInterface?: string;
  readonly ports?: { readonly server?: number; readonly client?: number };
  readonly httpPort?: number;
  readonly scriptUrl?: string;
  readonly binaries: () => ReadonlySet<string>;
  /** x64 UEFI: what machines without a choice of their own start, and whether the signed GRUB reads HTTP. */
  readonly uefi?: Pick<Dhcp6DecisionInput, 'defaultUefiBootProgram' | 'signedChainOverHttp'>;
  readonly dnsServers?: readonly string[];
  /** Preference 255 makes clients take our Advertise at once instead of collecting others for ~1–6 s. */
  readonly preference?: number;
  readonly clientState: (mac: Mac | undefined) => { readonly policy: ClientPolicy; readonly history: ClientHistory };
  /** The client's MAC from the neighbour table when neither its DUID nor its source address tells it. */
  readonly macFor?: (peer: string) => Mac | undefined;
  readonly pool?: Lease6Pool;
  readonly emit: Emit;
  readonly signal?: AbortSignal;
  readonly now?: () => number;
}

export interface Dhcp6Server {
  readonly port: number;
  /** The address boot URLs name from now on; undefined, with why: the interface has none to offer. */
  setServerAddress(address: string | undefined, why?: string): void;
  serverAddress(): string | undefined;
  readonly stats: { received: number; sent: number; malformed: number; ignored: number };
  close(): Promise<void>;
}

const T1_RATIO = 0.5;
const T2_RATIO = 0.8;

export async function createDhcp6Server(options: Dhcp6ServerOptions): Promise<Dhcp6Server> {
  if (options.mode === 'full' && !options.pool) throw new Error('full DHCPv6 mode needs an address pool (--pool6 FIRST-LAST)');
  const now = options.now ?? Date.now;
  const clientPort = options.ports?.client ?? CLIENT_PORT;
  const stats = { received: 0, sent: 0, malformed: 0, ignored: 0 };
  const { emit } = options;
  const socket = await options.openSocket(options.ports?.server ?? 547);
  if (options.multicastInterface) {
    try {
      socket.addMembership(ALL_DHCP_SERVERS, `::%${options.multicastInterface}`);
    } catch (error) {
      socket.close();
      throw new Error(`cannot join ${ALL_DHCP_SERVERS} on ${options.multicastInterface}: ${(error as Error).message}`);
    }
  }
  const serverIdHex = options.serverDuid.toString('hex');
  const serverName = `dhcp6-${options.mode}`;
  let serverAddress = options.serverAddress;
  let noAddressWhy = 'the interface has no global or ULA IPv6 address';

  function destination(rinfo: RemoteInfo): string {
    // Replies go to the client's link-local address, which means nothing without the interface.
    return rinfo.address.startsWith('fe80:') && !rinfo.address.includes('%') && options.interfaceName ? `${rinfo.address}%${options.interfaceName}` : rinfo.address;
  }

  function bootOptions(decision: Dhcp6BootDecision | undefined): Dhcp6Option[] {
    const out: Dhcp6Option[] = [];
    if (options.dnsServers?.length) out.push(option(Option.DNS_SERVERS, encodeAddressList(options.dnsServers)));
    if (decision?.action === 'boot') {
      out.push(option(Option.BOOTFILE_URL, encodeBootFileUrl(decision.bootFileUrl)));
      // UEFI HTTP Boot only accepts an offer that answers with the HTTPClient vendor class (UEFI 2.x §24.7).
      if (decision.vendorClass === 'HTTPClient') out.push(option(Option.VENDOR_CLASS, encodeVendorClass({ enterprise: ENTERPRISE_INTEL, data: ['HTTPClient'] })));
    }
    return out;
  }

  function reply(type: number, request: Dhcp6ClientServerMessage, body: readonly Dhcp6Option[]): Dhcp6ClientServerMessage {
    const clientId = findOption(request, Option.CLIENT_ID);
    return {
      kind: 'message',
      msgType: type,
      transactionId: request.transactionId,
      options: [...(clientId ? [option(Option.CLIENT_ID, clientId)] : []), option(Option.SERVER_ID, options.serverDuid), ...body],
    };
  }

  function iaWith(iaid: number, addresses: readonly string[], preferred: number, valid: number): Dhcp6Option {
    return option(
      Option.IA_NA,
      encodeIaNa({
        iaid,
        t1: Math.floor(preferred * T1_RATIO),
        t2: Math.floor(preferred * T2_RATIO),
        options: addresses.map((address) => option(Option.IAADDR, encodeIaAddress({ address, preferredLifetime: preferred, validLifetime: valid, options: [] }))),
      }),
    );
  }

  function iaStatus(iaid: number, code: number, message: string): Dhcp6Option {
    return option(Option.IA_NA, encodeIaNa({ iaid, t1: 0, t2: 0, options: [option(Option.STATUS_CODE, encodeStatus(code, message))] }));
  }

  function send(message: Dhcp6ClientServerMessage, rinfo: RemoteInfo, facts: Dhcp6ClientFacts, summary: string, extra: { addresses?: string[]; decision?: Dhcp6BootDecision }): void {
    const bytes = encode(message);
    const to = destination(rinfo);
    const sent = sendDatagram(socket, bytes, { address: to, port: clientPort }, (message) => emit({ kind: 'server.error', time: now(), source: 'dhcp6', server: 'dhcp6', message }));
    if (!sent) return;
    stats.sent += 1;
    emit({
      kind: 'dhcp6.sent',
      time: now(),
      source: 'dhcp6',
      messageType: messageTypeName(message.msgType) ?? String(message.msgType),
      transactionId: message.transactionId,
      peer: `[${to}]:${clientPort}`,
      summary,
      options: describeOptions6(message.options),
      ...(facts.mac && { mac: facts.mac }),
      ...(facts.duidHex && { duid: facts.duidHex }),
      ...(facts.uuid && { uuid: facts.uuid }),
      ...(options.interfaceName && { interface: options.interfaceName }),
      ...(extra.addresses?.length && { addresses: extra.addresses }),
      ...(extra.decision?.action === 'boot' && { bootFileUrl: extra.decision.bootFileUrl }),
    });
  }

  function ignore(facts: Dhcp6ClientFacts, reason: string, otherServer?: string): void {
    stats.ignored += 1;
    emit({
      kind: 'dhcp6.ignored',
      time: now(),
      source: 'dhcp6',
      transactionId: facts.transactionId,
      reason,
      ...(facts.mac && { mac: facts.mac }),
      ...(facts.duidHex && { duid: facts.duidHex }),
      ...(otherServer && { otherServer }),
    });
  }

  function decide(facts: Dhcp6ClientFacts): Dhcp6BootDecision {
    const state = options.clientState(facts.mac);
    return decideDhcp6Boot({
      facts,
      policy: state.policy,
      history: state.history,
      now: now(),
      serverAddress: serverAddress!,
      binaries: options.binaries(),
      ...options.uefi,
      ...(options.httpPort !== undefined && { httpPort: options.httpPort }),
      ...(options.scriptUrl !== undefined && { scriptUrl: options.scriptUrl }),
    });
  }

  /** Addresses for every IA_NA the client sent; `bind` false only advertises. */
  function assign(facts: Dhcp6ClientFacts, bind: boolean): { ias: Dhcp6Option[]; addresses: string[] } {
    const pool = options.pool!;
    const ias: Dhcp6Option[] = [];
    const addresses: string[] = [];
    for (const ia of facts.iaNa) {
      const duid = facts.duidHex!;
      const ip = bind ? (ia.addresses.find((a) => pool.inPool(a)) ?? pool.advertise(duid, ia.iaid, undefined, facts.mac)) : pool.advertise(duid, ia.iaid, ia.addresses[0], facts.mac);
      if (!ip) {
        ias.push(iaStatus(ia.iaid, StatusCode.NO_ADDRS_AVAIL, 'the pool is exhausted'));
        continue;
      }
      if (bind) {
        const outcome = pool.bind(duid, ia.iaid, ip, facts.mac);
        if (!outcome.ok) {
          ias.push(iaStatus(ia.iaid, facts.messageType === 'REQUEST' ? StatusCode.NO_ADDRS_AVAIL : StatusCode.NO_BINDING, outcome.reason));
          continue;
        }
        emit({ kind: 'lease6.granted', time: now(), source: 'dhcp6', ip, duid, iaid: ia.iaid, expiresAt: outcome.lease.expiresAt, ...(facts.mac && { mac: facts.mac }) });
      }
      addresses.push(ip);
      ias.push(iaWith(ia.iaid, [ip], pool.preferredSeconds, pool.validSeconds));
    }
    return { ias, addresses };
  }

  /** A Reply that hands out or extends leases goes out once they are on disk (not at all if we closed meanwhile). */
  function afterLeases(sendReply: () => void): void {
    options.pool!.whenDurable(() => {
      if (!closed) sendReply();
    });
  }

  function handle(message: Dhcp6ClientServerMessage, rinfo: RemoteInfo): void {
    const facts0 = readDhcp6ClientFacts(message, rinfo.address);
    const mac = facts0.mac ?? options.macFor?.(rinfo.address);
    const facts: Dhcp6ClientFacts = mac ? { ...facts0, mac } : facts0;
    emit({
      kind: 'dhcp6.received',
      time: now(),
      source: 'dhcp6',
      messageType: facts.messageType ?? `type ${message.msgType}`,
      transactionId: message.transactionId,
      peer: `[${rinfo.address}]:${rinfo.port}`,
      summary: `${facts.messageType ?? `type ${message.msgType}`} from ${isNetboot6Client(facts) ? describeFirmware({ ...facts, mac: facts.mac ?? ('' as Mac), messageType: undefined }) : 'a DHCPv6 client'}`,
      options: describeOptions6(message.options),
      client: facts.firmware,
      ...(facts.mac && { mac: facts.mac }),
      ...(facts.duidHex && { duid: facts.duidHex }),
      ...(facts.uuid && { uuid: facts.uuid }),
      ...(options.interfaceName && { interface: options.interfaceName }),
    });
    const type = message.msgType;
    if (!facts.duidHex && type !== MessageType.INFORMATION_REQUEST) return ignore(facts, 'no client identifier (RFC 8415 §16 requires one)');
    const serverId = facts.serverDuidHex;
    const addressedElsewhere = serverId !== undefined && serverId !== serverIdHex;
    const full = options.mode === 'full';
    const policyIgnores = options.clientState(facts.mac).policy.ignore === true;
    if (policyIgnores) return ignore(facts, 'the operator set this machine to be ignored');
    const answerNeedsUrl = type === MessageType.SOLICIT || type === MessageType.REQUEST || type === MessageType.RENEW || type === MessageType.REBIND || type === MessageType.INFORMATION_REQUEST;
    if (serverAddress === undefined && answerNeedsUrl) return ignore(facts, `no IPv6 address to offer in boot URLs: ${noAddressWhy}`);

    switch (type) {
      case MessageType.SOLICIT: {
        if (serverId !== undefined) return ignore(facts, 'a Solicit must not carry a server identifier (RFC 8415 §16.2)');
        const decision = decide(facts);
        if (!full) {
          if (decision.action !== 'boot') return ignore(facts, `stateless mode: ${decision.reason}`);
          const body = [option(Option.STATUS_CODE, encodeStatus(StatusCode.NO_ADDRS_AVAIL, 'boot options only; addresses come from another server')), ...bootOptions(decision)];
          return send(reply(MessageType.ADVERTISE, message, [...preference(), ...body]), rinfo, facts, decision.reason, { decision });
        }
        const rapid = facts.rapidCommit;
        const { ias, addresses } = assign(facts, rapid);
        const summary = decision.action === 'boot' ? decision.reason : `address only: ${decision.reason}`;
        if (rapid) return afterLeases(() => send(reply(MessageType.REPLY, message, [option(Option.RAPID_COMMIT), ...ias, ...bootOptions(decision)]), rinfo, facts, summary, { addresses, decision }));
        return send(reply(MessageType.ADVERTISE, message, [...preference(), ...ias, ...bootOptions(decision)]), rinfo, facts, summary, { addresses, decision });
      }
      case MessageType.REQUEST:
      case MessageType.RENEW: {
        if (addressedElsewhere) return ignore(facts, `addressed to another DHCPv6 server`, serverId);
        if (serverId === undefined) return ignore(facts, `a ${facts.messageType} must name the server (RFC 8415 §16.4)`);
        if (!full) return ignore(facts, 'stateless mode hands out no addresses');
        const decision = decide(facts);
        const { ias, addresses } = assign(facts, true);
        return afterLeases(() => send(reply(MessageType.REPLY, message, [...ias, ...bootOptions(decision)]), rinfo, facts, decision.action === 'boot' ? decision.reason : 'address only', { addresses, decision }));
      }
      case MessageType.REBIND: {
        if (!full) return ignore(facts, 'stateless mode hands out no addresses');
        const pool = options.pool!;
        // Rebind goes to any server: answer only for addresses that are ours to extend.
        if (!facts.iaNa.some((ia) => ia.addresses.some((a) => pool.inPool(a)))) return ignore(facts, 'Rebind for addresses not from this pool');
        const decision = decide(facts);
        const { ias, addresses } = assign(facts, true);
        return afterLeases(() => send(reply(MessageType.REPLY, message, [...ias, ...bootOptions(decision)]), rinfo, facts, 'lease extended', { addresses, decision }));
      }
      case MessageType.CONFIRM: {
        if (!full) return ignore(facts, 'stateless mode does not confirm addresses');
        const all = facts.iaNa.flatMap((ia) => ia.addresses);
        if (all.length === 0) return ignore(facts, 'Confirm without addresses');
        const onLink = all.every((a) => options.pool!.inPool(a));
        return send(
          reply(MessageType.REPLY, message, [option(Option.STATUS_CODE, onLink ? encodeStatus(StatusCode.SUCCESS, 'on link') : encodeStatus(StatusCode.NOT_ON_LINK, 'not on this link'))]),
          rinfo,
          facts,
          onLink ? 'addresses confirmed' : 'addresses not on this link',
          {},
        );
      }
      case MessageType.RELEASE:
      case MessageType.DECLINE: {
        if (addressedElsewhere) return ignore(facts, `addressed to another DHCPv6 server`, serverId);
        if (!full) return ignore(facts, 'stateless mode holds no leases');
        const declined = type === MessageType.DECLINE;
        const ias = facts.iaNa.map((ia) => {
          for (const address of ia.addresses) {
            const done = declined ? options.pool!.decline(facts.duidHex!, ia.iaid, address) : options.pool!.release(facts.duidHex!, ia.iaid, address);
            if (done) emit({ kind: declined ? 'lease6.declined' : 'lease6.released', time: now(), source: 'dhcp6', ip: address, duid: facts.duidHex!, iaid: ia.iaid, ...(facts.mac && { mac: facts.mac }) });
          }
          return ia;
        });
        return send(
          reply(MessageType.REPLY, message, [option(Option.STATUS_CODE, encodeStatus(StatusCode.SUCCESS, declined ? 'declined' : 'released'))]),
          rinfo,
          facts,
          `${ias.length} IA(s) ${declined ? 'declined' : 'released'}`,
          {},
        );
      }
      case MessageType.INFORMATION_REQUEST: {
        if (addressedElsewhere) return ignore(facts, `addressed to another DHCPv6 server`, serverId);
        if (findOption(message, Option.IA_NA)) return ignore(facts, 'an Information-request must not carry an IA (RFC 8415 §16.12)');
        const decision = decide(facts);
        return send(reply(MessageType.REPLY, message, bootOptions(decision)), rinfo, facts, decision.reason, { decision });
      }
      default:
        return ignore(facts, `${messageTypeName(type) ?? `message type ${type}`} is not for a server`);
    }
  }

  function preference(): Dhcp6Option[] {
    return options.preference === undefined ? [] : [option(Option.PREFERENCE, Buffer.from([options.preference]))];
  }

  onDatagram(socket, { source: 'dhcp6', emit, now, countDropped: () => (stats.malformed += 1) }, (bytes: Buffer, rinfo: RemoteInfo) => {
    stats.received += 1;
    try {
      const message = decode(bytes);
      if (message.kind === 'relay') {
        // Relayed clients are on another link: our link's pool and boot URLs do not fit them.
        stats.ignored += 1;
        emit({ kind: 'dhcp6.ignored', time: now(), source: 'dhcp6', transactionId: 0, reason: `relayed message from ${message.linkAddress}: relays are not served` });
        return;
      }
      handle(message, rinfo);
    } catch (error) {
      stats.malformed += 1;
      emit({
        kind: 'packet.malformed',
        time: now(),
        source: 'dhcp6',
        peer: `[${rinfo.address}]:${rinfo.port}`,
        error: (error as Error).message,
        length: bytes.length,
        count: stats.malformed,
      });
    }
  });
  socket.on('error', (error) => emit({ kind: 'server.error', time: now(), source: 'dhcp6', server: 'dhcp6', message: error.message }));

  const port = socket.address().port;
  const reportState = () => {
    if (serverAddress === undefined) {
      emit({ kind: 'server.error', time: now(), source: 'dhcp6', server: serverName, message: `no IPv6 address to offer in boot URLs: ${noAddressWhy}` });
    } else {
      emit({ kind: 'server.listening', time: now(), source: 'dhcp6', server: serverName, address: `[${serverAddress}]:${port}${options.interfaceName ? ` on ${options.interfaceName}` : ''}` });
    }
  };
  if (serverAddress === undefined) emit({ kind: 'server.listening', time: now(), source: 'dhcp6', server: serverName, address: `[::]:${port}${options.interfaceName ? ` on ${options.interfaceName}` : ''}` });
  reportState();

  let closed: Promise<void> | null = null;
  function close(): Promise<void> {
    closed ??= new Promise<void>((resolve) => socket.close(() => resolve())).then(() => {
      emit({ kind: 'server.closed', time: now(), source: 'dhcp6', server: serverName });
    });
    return closed;
  }
  options.signal?.addEventListener('abort', () => void close(), { once: true });
  function setServerAddress(address: string | undefined, why?: string): void {
    // Reported only when something changed: the address, or why there is none.
    const unchanged = address === serverAddress && (address !== undefined || why === undefined || why === noAddressWhy);
    if (closed || unchanged) return;
    serverAddress = address;
    if (why !== undefined) noAddressWhy = why;
    reportState();
  }
  return { port, stats, close, setServerAddress, serverAddress: () => serverAddress };
}
