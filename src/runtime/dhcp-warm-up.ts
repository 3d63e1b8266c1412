/**
 * The DHCPv4 reply path, run once over loopback right after the real server starts listening.
 *
 * V8 compiles a function to fast machine code only after it has run a while. Measured at 4000 DORA/s
 * (docs/performance.md), a rack that powers on right after pxedeck starts meets the reply path still
 * interpreted: the first second's answers came up to a few hundred ms late while the compiler threads took
 * the core, and the same burst after 4,000 exchanges of warm-up was answered like every later second.
 *
 * So throwaway DHCP servers, two at a time, are made from the same code — V8 keeps compiled code and type feedback
 * per function, shared by every server instance — and a client on loopback runs full exchanges through them:
 * decode, the boot decision, the lease pool and its journal (fdatasync'ed, in a temporary directory), the
 * reply's encoding, the send, and the events folded into a registry of its own. Nothing reaches the world: no
 * event the console or the event log, no lease the real pool, no record the real registry. Every
 * socket is bound to 127.0.0.1, and the kernel routes nothing from a loopback source off the host.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomInt } from 'node:crypto';
import type { Socket } from 'node:dgram';
import { MessageType, Option } from '../protocol/dhcp4/constants.js';
import { messageTypeOf } from '../protocol/dhcp4/options.js';
import { decode, type DhcpPacket } from '../protocol/dhcp4/packet.js';
import { addressToBytes } from '../protocol/dhcp4/ipv4-address.js';
import { createDhcp4Server, type Dhcp4ServerOptions } from '../servers/dhcp4/server.js';
import { LeasePool } from '../servers/dhcp4/lease-pool.js';
import { effectiveNewClientLimit } from '../servers/dhcp4/new-client-limit.js';
import { openUdpSocket } from '../servers/net/device-socket.js';
import { openLeaseFile } from '../state/lease-file.js';
import { ClientRegistry } from '../state/registry.js';
import { foldingSink } from './event-sink.js';
import type { PxedeckEvent } from '../servers/events.js';
import type { SerialisedEvent } from '../servers/event-json.js';
import { collectGarbageNow } from './collector-tuning.js';
import { leasePoolOptions } from './full-dhcp.js';
import { clientKindOf, clientRequest, type ClientKind } from './dhcp-warm-up-clients.js';

/** Enough for V8 to have compiled the whole reply path (measured: docs/performance.md, "The start-up warm-up"). */
export const WARM_UP_EXCHANGES = 5000;
/** New machines per second from which a cold reply path shows: below it, answers are a millisecond late at most. */
const BURST_NEW_MACHINES_PER_SECOND = 1000;

/**
 * The warm-up pays where a burst of new machines can reach the reply path: a full DHCP server whose
 * new-machine limit is lifted or set to 1,000 a second or more, i.e. a large rack the operator said is
 * coming. Its price is ~1–2 s of a core at start and +23–26 MiB of RSS at idle for good (measured with the
 * command's 2 MiB young generation; +49 with V8's default, which the warm-up grows), so nothing runs where
 * the default limit (50 a second) keeps any burst small, nor in proxy mode, where the site's server hands
 * out the addresses. `--dhcp-warm-up N` decides either way.
 */
export function defaultWarmUpExchanges(server: Pick<Dhcp4ServerOptions, 'mode' | 'newClientLimit'>): number {
  if (server.mode !== 'full') return 0;
  const limit = effectiveNewClientLimit(server.newClientLimit);
  return limit === null || limit.perSecond >= BURST_NEW_MACHINES_PER_SECOND ? WARM_UP_EXCHANGES : 0;
}

export interface DhcpWarmUpOptions {
  /**
   * The real server's options: its mode, address, boot targets, lease parameters and stop signal are
   * reused; its sockets, pool, event sink and client state never are.
   */
  readonly server: Dhcp4ServerOptions;
  /**
   * The real server's `clientState`, made over the warm-up's own registry: the same closure (one source
   * site), so V8's feedback for it is the real one's; a machine nobody assigned anything to gets the default.
   */
  readonly clientStateIn: (registry: ClientRegistry) => Dhcp4ServerOptions['clientState'];
  readonly exchanges: number;
  /** Stops early, e.g. when pxedeck is shutting down. */
  readonly signal?: AbortSignal;
  /** A bound on the whole warm-up, however slow the host. Default 10 s. */
  readonly timeLimitMs?: number;
}

export interface DhcpWarmUpResult {
  /** Exchanges asked for, answered to the end (ACK), and left unanswered (the boot decision ignored them). */
  readonly asked: number;
  readonly completed: number;
  readonly unanswered: number;
  readonly elapsedMs: number;
  /** Why it ended before running every exchange: 'time limit' or 'stopped'. */
  readonly cutShort?: string;
}

/** Exchanges in flight at once: enough to keep the server busy, few enough for a loopback socket's buffer. */
const WINDOW = 32;
/** An exchange with no answer by then is one the boot decision ignored (the operator's default may be "ignore"). */
const EXCHANGE_TIMEOUT_MS = 250;
/** RFC 2544's benchmarking range: addresses handed out on loopback only, never seen on a network. */
const WARM_UP_POOL = { first: '198.18.0.1', last: '198.19.255.254', subnet: '198.18.0.0/15' } as const;

/** How many exchanges later a machine asks again (even: the same lane). */
const REASK_AFTER = 50;
/**
 * Two throwaway servers, taking machines in turn. Each has its own functions, sink, journal and client state,
 * made at the same source sites as the real server's. With one, V8 compiled every call through them (the
 * socket handler, the boot decision, the journal, the sink) to that one server's function, and threw the
 * code away at the real server's first packet ("wrong call target"); seeing two functions from one site, it
 * compiles a call to whatever that site makes, the real server's included (docs/performance.md).
 */
const LANES = 2;
/**
 * How far in (a share of the exchanges) the first lane closes and a fresh one takes its place. A server that
 * closes sends what no exchange does through code it shares with the real server: its `server.closed` event
 * through the sink, the registry's fold and the serialiser; its journal's last write; the promises of its
 * sockets' close. Code V8 compiled on exchanges alone was thrown away there ("wrong map") and compiled again
 * in the first real burst, on the core that answers it (docs/performance.md). Closed part-way, the lane teaches
 * V8 those shapes while exchanges still run, so the reply path is compiled again, knowing them, before the end,
 * and the last lanes' close finds nothing new.
 */
const FIRST_LANE_CLOSES_AT = 0.6;
const WARM_UP_REGISTRY_LIMITS = { maxClients: 64, maxEvents: 2000 } as const;

interface Exchange {
  readonly index: number;
  readonly kind: ClientKind;
  readonly startedAt: number;
}

export async function warmUpDhcp4(options: DhcpWarmUpOptions): Promise<DhcpWarmUpResult> {
  const started = Date.now();
  const lanes: Lane[] = [];
  let client: Socket | undefined;
  try {
    client = await loopbackSocket(0);
    const clientPort = client.address().port;
    for (let index = 0; index < LANES; index += 1) lanes.push(await openLane(options, clientPort));
    const handOver = Math.floor(options.exchanges * FIRST_LANE_CLOSES_AT);
    const first = await runExchanges(options, client, lanes.map((lane) => lane.ports), { from: 0, to: handOver }, started);
    if (first.cutShort) return first;
    await lanes.shift()!.close();
    lanes.push(await openLane(options, clientPort));
    const second = await runExchanges(options, client, lanes.map((lane) => lane.ports), { from: handOver, to: options.exchanges }, started);
    return {
      ...second,
      completed: first.completed + second.completed,
      unanswered: first.unanswered + second.unanswered,
    };
  } finally {
    client?.close();
    for (const lane of lanes) await lane.close();
  }
}

/** Every socket on 127.0.0.1: the servers' (closed by the servers) and the client's. */
const loopbackSocket = (port: number) => openUdpSocket({ address: '127.0.0.1', port });

interface Lane {
  readonly ports: { readonly dhcp: number; readonly bootServer: number | null };
  close(): Promise<void>;
}

/**
 * One event of each shape the lanes made, with its serialised form, kept for good. V8 frees a hidden class
 * once no object has it, and with it every function compiled on it ("weak objects"): the collection at the
 * warm-up's end took the shapes of the lanes' events and option views, and the sink, the fold and the
 * serialiser with them. Kept, the shapes live on and the real server's events are made with them.
 * One a shape, the latest: a ring of the last few hundred events made V8 take the sites that make events for
 * long-lived ones and allocate every real event in the old generation (pretenuring: the heap grew 8 MB/s
 * instead of 3 in the burst, and it had two full collections).
 */
const MAX_KEPT_SHAPES = 64;
const keptShapes = new Map<string, readonly [PxedeckEvent, SerialisedEvent]>();
function keepShape(event: PxedeckEvent, serialised: SerialisedEvent): void {
  const shape = Object.keys(event).join();
  if (keptShapes.size < MAX_KEPT_SHAPES || keptShapes.has(shape)) keptShapes.set(shape, [event, serialised]);
}

/** One throwaway server with its own registry, event sink, pool and journal, answering on loopback to `clientPort`. */
async function openLane(options: DhcpWarmUpOptions, clientPort: number): Promise<Lane> {
  const real = options.server;
  const { mode } = real;
  // Few records: the warm-up is about code, not data.
  const registry = new ClientRegistry({ limits: WARM_UP_REGISTRY_LIMITS });
  // The real sink's code with nowhere to write: events reach this registry only (and one of each shape is kept).
  const { emit, notice } = foldingSink(registry, keepShape);
  // The real sink carries notices between packets (this warm-up's own at its end, for one): the fold learns
  // their shape here, not from the real sink after the warm-up, where it threw the compiled fold away.
  notice('info', 'DHCP warm-up lane open');
  const journalDir = mode === 'full' ? mkdtempSync(join(tmpdir(), 'pxedeck-warm-up-')) : undefined;
  let journal: ReturnType<typeof openLeaseFile> | undefined;
  const removeJournal = async () => {
    if (journal) await journal.close();
    if (journalDir) rmSync(journalDir, { recursive: true, force: true });
  };
  try {
    journal = journalDir ? openLeaseFile(journalDir) : undefined;
    // The real server's options with everything that reaches the world replaced: sockets (all on loopback),
    // the pool, the event sink and the client state. The server reads its options through one shape of its
    // own (server.ts), so how this copy is built does not matter to the code V8 compiles.
    const server = await createDhcp4Server({
      ...real,
      openSocket: loopbackSocket,
      ports: { dhcp: 0, bootServer: mode === 'proxy' ? 0 : null, client: clientPort, relay: clientPort },
      // Replies to clients without an address are broadcast on a real segment; here they come back to us.
      broadcastAddress: '127.0.0.1',
      clientState: options.clientStateIn(registry),
      ...(journal && {
        pool: new LeasePool(
          leasePoolOptions({
            range: WARM_UP_POOL,
            subnet: WARM_UP_POOL.subnet,
            excluded: [],
            reservations: new Map(),
            leaseSeconds: real.lease?.leaseSeconds ?? 3600,
            store: journal,
          }),
        ),
      }),
      newClientLimit: null,
      emit,
    });
    return {
      ports: server.ports,
      close: async () => {
        await server.close();
        await removeJournal();
      },
    };
  } catch (error) {
    await removeJournal();
    throw error;
  }
}

function runExchanges(
  options: DhcpWarmUpOptions,
  client: Socket,
  lanes: ReadonlyArray<{ readonly dhcp: number; readonly bootServer: number | null }>,
  range: { readonly from: number; readonly to: number },
  started: number,
): Promise<DhcpWarmUpResult> {
  const { mode } = options.server;
  // A machine always asks the same lane, so its second exchange finds its lease and record there.
  const laneOf = (index: number) => lanes[index % lanes.length]!;
  // Proxy mode: the PXE boot server's REQUEST on 4011 (UEFI after a steering offer, iPXE); full mode: the lease's.
  const requestPortOf = (index: number) => (mode === 'proxy' ? laneOf(index).bootServer : laneOf(index).dhcp);
  const timeLimitMs = options.timeLimitMs ?? 10_000;
  const inFlight = new Map<number, Exchange>();
  let next = range.from;
  let completed = 0;
  let unanswered = 0;
  let finished = false;
  return new Promise((resolve) => {
    const finish = (cutShort?: string) => {
      if (finished) return;
      finished = true;
      clearInterval(sweeper);
      client.off('message', onReply);
      options.signal?.removeEventListener('abort', onAbort);
      resolve({ asked: options.exchanges, completed, unanswered, elapsedMs: Date.now() - started, ...(cutShort && { cutShort }) });
    };
    const onAbort = () => finish('stopped');
    const startMore = () => {
      while (inFlight.size < WINDOW && next < range.to) {
        const count = next++;
        // Every fourth exchange is a machine seen 50 exchanges before, asking again (as firmware, then iPXE,
        // then an installer do): a known lease and record take other paths than a new machine's.
        const index = count % 4 === 3 && count >= REASK_AFTER ? count - REASK_AFTER : count;
        const exchange: Exchange = { index, kind: clientKindOf(index, mode), startedAt: Date.now() };
        // Random over all 32 bits, as firmware picks them: V8 keeps numbers past 2^31 differently, and code
        // learnt on small ones only would be thrown away at the first real client.
        let xid = randomInt(0, 0x1_0000_0000);
        while (inFlight.has(xid)) xid = randomInt(0, 0x1_0000_0000);
        inFlight.set(xid, exchange);
        client.send(clientRequest(exchange.kind, index, xid, MessageType.DISCOVER), laneOf(index).dhcp, '127.0.0.1');
      }
      if (inFlight.size === 0 && next >= range.to) finish();
    };
    const end = (xid: number, answered: boolean) => {
      if (!inFlight.delete(xid)) return;
      if (answered) completed += 1;
      else unanswered += 1;
    };
    const onReply = (bytes: Buffer) => {
      let reply: DhcpPacket;
      try {
        reply = decode(bytes);
      } catch {
        return;
      }
      const exchange = inFlight.get(reply.xid);
      if (!exchange) return;
      const type = messageTypeOf(reply);
      const requestPort = requestPortOf(exchange.index);
      if (type === 'OFFER' && requestPort !== null) {
        const extra: Array<[number, Buffer]> =
          mode === 'proxy'
            ? []
            : [
                [Option.REQUESTED_IP, addressToBytes(reply.yiaddr)],
                [Option.SERVER_ID, reply.options.get(Option.SERVER_ID) ?? Buffer.alloc(4)],
              ];
        client.send(clientRequest(exchange.kind, exchange.index, reply.xid, MessageType.REQUEST, extra), requestPort, '127.0.0.1');
        return;
      }
      end(reply.xid, type === 'ACK');
      startMore();
    };
    const sweeper = setInterval(() => {
      const now = Date.now();
      if (now - started > timeLimitMs) return finish('time limit');
      for (const [xid, exchange] of inFlight) if (now - exchange.startedAt > EXCHANGE_TIMEOUT_MS) end(xid, false);
      startMore();
    }, 50);
    client.on('message', onReply);
    if (options.signal?.aborted) return finish('stopped');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    startMore();
  });
}

/**
 * Runs the warm-up in the background (the real server already answers) and says how it went: an info
 * notice with its figures, or a warning if it could not run (the servers still work, the first rack is
 * only answered more slowly). When it has run, its garbage is collected at once (collectGarbageNow says why).
 */
export function startDhcpWarmUp(options: DhcpWarmUpOptions & { readonly notice: (level: 'info' | 'warning', message: string) => void }): void {
  if (options.exchanges <= 0) return;
  const { notice, ...warmUp } = options;
  warmUpDhcp4(warmUp).then(
    (result) => {
      if (result.cutShort === 'stopped') return;
      collectGarbageNow();
      const ran = result.completed + result.unanswered;
      notice(
        'info',
        `DHCP warm-up: ${ran} exchanges over loopback in ${result.elapsedMs} ms, so the first machines are answered at full speed` +
          (result.unanswered ? ` (${result.unanswered} got no answer: the default boot target ignores new machines)` : '') +
          (result.cutShort ? ` (cut short: ${result.cutShort})` : ''),
      );
    },
    (error: unknown) => {
      if (options.signal?.aborted) return;
      notice('warning', `DHCP warm-up could not run (${error instanceof Error ? error.message : String(error)}); DHCP works, only the first machines may be answered more slowly`);
    },
  );
}
