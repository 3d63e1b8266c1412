/**
 * A passive ear on UDP 68 of the served interface: the OFFERs, ACKs and NAKs other DHCP servers broadcast
 * to clients. In proxy mode this is how pxedeck learns what the site server hands out (address, boot file,
 * next-server) to which machine; in full mode it shows a rogue server on the bench. It never sends.
 *
 * Why sharing port 68 is safe: the socket is pinned to the interface (SO_BINDTODEVICE) and sets
 * SO_REUSEADDR, so a laptop's own DHCP client that sets SO_REUSEADDR too (dhclient, systemd-networkd,
 * NetworkManager, dhcpcd) still binds 68, and Linux hands each *broadcast* datagram to every socket bound to
 * the port, so neither of us takes packets from the other. Limits, by design of UDP: a reply *unicast* to the
 * client (no broadcast flag, sent to its MAC and offered address) reaches only one socket at most and
 * usually is not even addressed to this host: those replies are invisible to us. Sharing needs both sides:
 * a client that binds 68 without SO_REUSEADDR before us makes our bind fail (we say so, and pxedeck serves
 * on without us); one that binds without it after us would fail, so such a client must start first.
 */
import type { RemoteInfo, Socket } from 'node:dgram';
import { BOOTREPLY, Option } from '../../protocol/dhcp4/constants.js';
import { messageTypeOf, readAddressOption } from '../../protocol/dhcp4/options.js';
import { decode, type DhcpPacket } from '../../protocol/dhcp4/packet.js';
import { macFromBytes } from '../../protocol/mac.js';
import type { Emit, ForeignDhcpReplyEvent } from '../events.js';
import { onDatagram } from '../net/datagram-guard.js';
import { SocketOpenError } from '../net/socket-open-error.js';
import { describePortHolders } from '../net/port-holder.js';

/** The name the observer reports its state under (`server.listening` / `server.error`). */
export const OBSERVER_NAME = 'dhcp-watch';

export interface ReplyObserverOptions {
  /** Opens the listening socket on `port`: pinned to the interface, with SO_REUSEADDR, in production. */
  readonly openSocket: (port: number) => Promise<Socket>;
  readonly port?: number;
  /** pxedeck's own addresses on the interface: replies from them (our proxy offers) are not foreign. */
  readonly ownAddresses: readonly string[];
  readonly interfaceName?: string;
  readonly emit: Emit;
  readonly signal?: AbortSignal;
  readonly now?: () => number;
}

export interface ReplyObserver {
  readonly port: number;
  readonly stats: { received: number; reported: number; own: number; notReplies: number; repeats: number; malformed: number };
  close(): Promise<void>;
}

/** Replies worth a line: the server answered a client. A retransmitted reply is not news. */
const REPEAT_WINDOW_MS = 10_000;
const REMEMBERED_REPLIES = 512;

/** Pure: what a decoded packet on port 68 says, or why it is not another server's reply. */
export function readForeignReply(
  packet: DhcpPacket,
  from: { readonly address: string; readonly port: number },
  ownAddresses: readonly string[],
): { readonly reply: Omit<ForeignDhcpReplyEvent, 'kind' | 'time' | 'source' | 'interface'> } | { readonly skip: 'own' | 'not-a-reply' } {
  if (packet.op !== BOOTREPLY || packet.hlen !== 6) return { skip: 'not-a-reply' };
  const type = messageTypeOf(packet);
  // Only what a server says to a client; anything else on 68 (a DISCOVER echoed by a relay) is not ours to report.
  if (type !== undefined && type !== 'OFFER' && type !== 'ACK' && type !== 'NAK') return { skip: 'not-a-reply' };
  const server = readAddressOption(packet, Option.SERVER_ID) ?? from.address;
  if (ownAddresses.includes(server) || ownAddresses.includes(from.address)) return { skip: 'own' };
  const bootFile = packet.options.get(Option.BOOTFILE_NAME)?.toString('latin1').replace(/\0+$/, '') || packet.file || undefined;
  const tftpServer = packet.options.get(Option.TFTP_SERVER_NAME)?.toString('latin1').replace(/\0+$/, '') || packet.sname || undefined;
  const offered = packet.yiaddr !== '0.0.0.0' ? packet.yiaddr : undefined;
  const messageType = type ?? 'BOOTREPLY';
  return {
    reply: {
      mac: macFromBytes(packet.chaddr),
      server,
      messageType,
      xid: packet.xid,
      peer: `${from.address}:${from.port}`,
      ...(offered && { offered }),
      // The client holds the address only once it is ACKed: an OFFER may go to another server's offer.
      ...(offered && messageType === 'ACK' && { ip: offered }),
      ...(packet.siaddr !== '0.0.0.0' && { nextServer: packet.siaddr }),
      ...(bootFile && { bootFile }),
      ...(tftpServer && { tftpServer }),
    },
  };
}

export async function createReplyObserver(options: ReplyObserverOptions): Promise<ReplyObserver> {
  const now = options.now ?? Date.now;
  const { emit } = options;
  const stats = { received: 0, reported: 0, own: 0, notReplies: 0, repeats: 0, malformed: 0 };
  const socket = await options.openSocket(options.port ?? 68);
  const recent = new Map<string, number>();

  const onMessage = (bytes: Buffer, rinfo: RemoteInfo): void => {
    stats.received += 1;
    let packet: DhcpPacket;
    try {
      packet = decode(bytes);
    } catch (error) {
      stats.malformed += 1;
      emit({
        kind: 'packet.malformed',
        time: now(),
        source: 'dhcp4',
        peer: `${rinfo.address}:${rinfo.port}`,
        error: `on the client port: ${error instanceof Error ? error.message : String(error)}`,
        length: bytes.length,
        count: stats.malformed,
      });
      return;
    }
    const read = readForeignReply(packet, rinfo, options.ownAddresses);
    if ('skip' in read) {
      if (read.skip === 'own') stats.own += 1;
      else stats.notReplies += 1;
      return;
    }
    const { reply } = read;
    const at = now();
    const key = `${reply.server}/${reply.mac}/${reply.xid}/${reply.messageType}/${reply.offered ?? ''}`;
    const seen = recent.get(key);
    if (seen !== undefined && at - seen < REPEAT_WINDOW_MS) {
      stats.repeats += 1;
      return;
    }
    recent.delete(key);
    recent.set(key, at);
    if (recent.size > REMEMBERED_REPLIES) recent.delete(recent.keys().next().value!);
    stats.reported += 1;
    emit({ kind: 'dhcp.foreign-reply', time: at, source: 'dhcp4', ...reply, ...(options.interfaceName && { interface: options.interfaceName }) });
  };
  const detach = onDatagram(socket, { source: 'dhcp4', emit, now, countDropped: () => (stats.malformed += 1) }, onMessage);
  // A socket error after binding (ENOBUFS…) must not take the process down; the observer is an extra.
  socket.on('error', (error) => emit({ kind: 'server.error', time: now(), source: 'dhcp4', server: OBSERVER_NAME, message: error.message }));

  const port = socket.address().port;
  emit({ kind: 'server.listening', time: now(), source: 'dhcp4', server: OBSERVER_NAME, address: `0.0.0.0:${port}` });

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closed ??= new Promise<void>((resolve) => {
      detach();
      socket.close(() => resolve());
    }).then(() => emit({ kind: 'server.closed', time: now(), source: 'dhcp4', server: OBSERVER_NAME })));
  options.signal?.addEventListener('abort', () => void close(), { once: true });
  return { port, stats, close };
}

/** Pure: why the observer could not listen, for an operator (a short form for the header chip, a full one for the log). */
export function explainObserverFailure(error: unknown, port: number, interfaceName: string): { readonly short: string; readonly full: string } {
  const where = `UDP ${port} on ${interfaceName}`;
  let short: string;
  let cause: string;
  if (error instanceof SocketOpenError && error.code === 'EADDRINUSE') {
    const holder = error.holders.length > 0 ? describePortHolders(error.holders) : 'another process';
    short = `port ${port} held without sharing`;
    cause = `${where} is held by ${holder}, which did not allow sharing (SO_REUSEADDR)`;
  } else if (error instanceof SocketOpenError) {
    short = `cannot listen on ${port}: ${error.code}`;
    cause = error.message;
  } else {
    short = `cannot listen on ${port}`;
    cause = error instanceof Error ? error.message : String(error);
  }
  return {
    short,
    full: `other DHCP servers' offers on ${interfaceName} are not visible: ${cause}. pxedeck serves as usual; only the list of foreign servers and what they offered stays incomplete.`,
  };
}

/**
 * Starts the observer, or reports why it could not and returns undefined: overhearing is an extra, so a
 * failure never stops pxedeck from serving.
 */
export async function startReplyObserver(options: ReplyObserverOptions & { readonly interfaceName: string }): Promise<ReplyObserver | undefined> {
  const now = options.now ?? Date.now;
  const port = options.port ?? 68;
  try {
    return await createReplyObserver(options);
  } catch (error) {
    const { short, full } = explainObserverFailure(error, port, options.interfaceName);
    options.emit({ kind: 'server.error', time: now(), source: 'dhcp4', server: OBSERVER_NAME, message: short });
    options.emit({ kind: 'notice', time: now(), source: 'system', level: 'warning', message: full });
    return undefined;
  }
}
