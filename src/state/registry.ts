/**
 * The client registry: every server's events fold into one record per MAC. The console and the headless
 * log read it; the boot core reads each machine's history from it. Lives outside React: subscribers get a
 * version bump and read an immutable snapshot.
 */
import type { ClientHistory } from '../boot/dhcp-decision.js';
import { uuidMatchKey } from '../boot/dhcp6-identity.js';
import { macFromEui64, type Mac } from '../protocol/mac.js';
import type { PxedeckEvent } from '../servers/events.js';
import { serialiseEvent, type StoredEvent } from '../servers/event-json.js';
import { ClientKeys } from './client-keys.js';
import { foldForeignServer, type ForeignServers } from './foreign-servers.js';
import { foldRouterAdvert, noRouterAdverts, type RouterAdvertView } from './router-adverts.js';
import { diagnose, newDiagnosisState, type DiagnosisOptions, type DiagnosisState, type Verdict } from './diagnosis.js';
import { optionValue } from '../protocol/dhcp4/options-view.js';
import { foldEvent, newRecord, type ClientRecord, type Draft } from './client-record.js';
import { TimelineStores } from './timeline-stores.js';

export interface ServerState {
  readonly server: string;
  /** `not-applicable`: nothing to serve on this interface (DHCPv4 on an IPv6-only port), not a failure. */
  readonly state: 'listening' | 'error' | 'closed' | 'not-applicable';
  readonly address?: string;
  readonly message?: string;
}

const serverStates = {
  'server.listening': 'listening',
  'server.error': 'error',
  'server.closed': 'closed',
  'server.not-applicable': 'not-applicable',
} as const satisfies Record<string, ServerState['state']>;

export interface RegistrySnapshot {
  readonly version: number;
  readonly clients: ReadonlyMap<Mac, ClientRecord>;
  readonly servers: ReadonlyMap<string, ServerState>;
  /** Other DHCP servers on the segment, with what they offered to which machine. */
  readonly foreignServers: ForeignServers;
  /** Who advertises as a router on the segment (IPv6). */
  readonly routerAdverts: RouterAdvertView;
  readonly malformed: number;
  /** Machines forgotten to stay within the bounds (least recently seen first); the event log still has them. */
  readonly evicted: number;
  readonly limits: RegistryLimits;
}

export interface RegistryLimits {
  /** Records kept; past it the machine seen least recently is forgotten. */
  readonly maxClients: number;
  /** Timeline and log events kept over all records; past it, likewise. */
  readonly maxEvents: number;
}

/**
 * A bench or a rack is tens to hundreds of machines; a record holds at most 2 × timelineLimit events of
 * ~0.3–0.5 KB (kept off the heap, src/state/timeline.ts). These keep a flood of made-up MACs to a few tens
 * of MB (docs/security.md has the measurement).
 */
export const DEFAULT_REGISTRY_LIMITS: RegistryLimits = { maxClients: 1000, maxEvents: 50_000 };

export interface RegistryOptions {
  readonly timelineLimit?: number;
  readonly diagnosis?: DiagnosisOptions;
  readonly limits?: Partial<RegistryLimits>;
}

type Listener = () => void;

export class ClientRegistry {
  private readonly clients = new Map<Mac, ClientRecord>();
  private readonly servers = new Map<string, ServerState>();
  private foreign: ForeignServers = new Map();
  /**
   * IP → MAC for HTTP, TFTP and syslog. DHCPv6 names a client by DUID, not MAC: a UUID (keyed across iPXE's and
   * OVMF's byte orders) or DUID seen once beside a MAC folds later MAC-less DHCPv6 events into the same record.
   */
  private readonly keys = new ClientKeys();
  private readonly diagnoses = new Map<Mac, DiagnosisState>();
  /** The timelines' buffers: a forgotten machine's go to the next new one while nobody has looked (timeline-stores.ts). */
  private readonly stores = new TimelineStores();
  private readonly newVerdicts: Array<{ mac: Mac; verdict: Verdict }> = [];
  private readonly listeners = new Set<Listener>();
  private readonly timelineLimit: number;
  private readonly limits: RegistryLimits;
  private foreignNamesOf: ForeignServers | undefined;
  private foreignNames: readonly string[] = [];
  private routerAdverts = noRouterAdverts;
  private malformed = 0;
  private evicted = 0;
  /** Timeline and log events over all records. */
  private events = 0;
  private version = 0;
  private snapshot: RegistrySnapshot | null = null;
  /**
   * Machines whose record was made after anyone last looked — no snapshot or `get` has handed it out — so the
   * next event may change it in place. A record is copied once per look, not once per event: under load, most
   * events change a record nobody has seen yet, and a copy per event was garbage that lived long enough to be
   * collected the costly way.
   */
  private readonly unseen = new Set<Mac>();
  /** The machine re-inserted last (the least-recently-seen order needs no change for its next event). */
  private newest: Mac | undefined;

  constructor(private readonly options: RegistryOptions = {}) {
    this.timelineLimit = options.timelineLimit ?? 200;
    this.limits = { ...DEFAULT_REGISTRY_LIMITS, ...options.limits };
  }

  /** Verdicts found since the last call, for the caller to report as `client.diagnosis` events. */
  takeNewVerdicts(): Array<{ mac: Mac; verdict: Verdict }> {
    return this.newVerdicts.splice(0);
  }

  /**
   * `serialised`: the event as a timeline keeps it, if the caller has it already (the event sink serialises
   * each event once; the console gets the servers' events in that form from their thread).
   */
  apply(event: PxedeckEvent, serialised?: StoredEvent): void {
    switch (event.kind) {
      case 'server.listening':
      case 'server.error':
      case 'server.closed':
      case 'server.not-applicable':
        this.servers.set(event.server, {
          server: event.server,
          state: serverStates[event.kind],
          ...(event.address && { address: event.address }),
          ...(event.message && { message: event.message }),
        });
        break;
      case 'packet.malformed':
        this.malformed += 1;
        break;
      default:
        break;
    }
    this.routerAdverts = foldRouterAdvert(this.routerAdverts, event);
    this.foreign = foldForeignServer(this.foreign, event);
    const mac = event.mac ?? (event.ip ? this.macForIp(event.ip) : undefined) ?? this.macByIdentity(event);
    if (mac) this.foldClient(mac, event, serialised);
    this.version += 1;
    this.snapshot = null;
    for (const listener of this.listeners) listener();
  }

  /** The other DHCP servers' names, remade only when that list changed (diagnosis asks on every event). */
  private foreignServerNames(): readonly string[] {
    if (this.foreignNamesOf !== this.foreign) {
      this.foreignNamesOf = this.foreign;
      this.foreignNames = [...this.foreign.keys()];
    }
    return this.foreignNames;
  }

  private macByIdentity(event: PxedeckEvent): Mac | undefined {
    const { uuid, duid } = identityOf(event);
    return (uuid ? this.keys.find(`uuid ${uuidMatchKey(uuid)}`) : undefined) ?? (duid ? this.keys.find(`duid ${duid}`) : undefined);
  }

  private foldClient(mac: Mac, event: PxedeckEvent, serialised: StoredEvent = serialiseEvent(event)): void {
    const { uuid, duid } = identityOf(event);
    if (uuid) this.keys.link(mac, `uuid ${uuidMatchKey(uuid)}`);
    if (duid) this.keys.link(mac, `duid ${duid}`);
    const draft = this.draftFor(mac, event.time);
    draft.lastSeen = event.time;
    const ring = event.kind === 'syslog.line' ? 'log' : 'timeline';
    const kept = draft[ring].length;
    draft[ring] = draft[ring].append(serialised, this.stores);
    this.events += draft[ring].length - kept;
    if (event.ip && event.kind !== 'lease.released' && event.kind !== 'lease6.released') {
      draft.ip = event.ip;
      this.keys.link(mac, `ip ${event.ip}`);
    }

    foldEvent(draft, event);
    if (event.kind !== 'client.diagnosis') {
      let state = this.diagnoses.get(mac);
      if (!state) this.diagnoses.set(mac, (state = newDiagnosisState()));
      const verdict = diagnose(state, event, this.foreignServerNames(), this.options.diagnosis);
      if (verdict) {
        draft.verdicts = [...draft.verdicts, verdict];
        this.newVerdicts.push({ mac, verdict });
      }
    }
    // Re-inserted, so the map's order is least recently seen first.
    if (this.newest !== mac) {
      this.clients.delete(mac);
      this.newest = mac;
    }
    this.clients.set(mac, draft);
    this.evictBeyondLimits(mac);
  }

  /**
   * The record to change for this event: the machine's own if nobody has seen it yet, else a copy, which the
   * console tells from the old one by identity.
   */
  private draftFor(mac: Mac, time: number): Draft {
    const record = this.clients.get(mac);
    if (record && this.unseen.has(mac)) return record as Draft;
    this.unseen.add(mac);
    if (!record) return newRecord(mac, time, this.timelineLimit);
    // Timelines never change (an append makes a new one), so the copy shares them.
    return { ...record };
  }

  /** Records handed out from here on must not change: the next event of each machine copies it first. */
  private markSeen(): void {
    this.unseen.clear();
    this.stores.lookedAt();
  }

  /** Forgets the machines seen least recently until the records and their events fit; never `current`. */
  private evictBeyondLimits(current: Mac): void {
    for (const [mac, record] of this.clients) {
      if (this.clients.size <= this.limits.maxClients && this.events <= this.limits.maxEvents) return;
      if (mac === current) return;
      this.clients.delete(mac);
      this.unseen.delete(mac);
      this.diagnoses.delete(mac);
      this.keys.forget(mac);
      record.timeline.giveBackTo(this.stores);
      record.log.giveBackTo(this.stores);
      this.events -= record.timeline.length + record.log.length;
      this.evicted += 1;
    }
  }

  /** How many timeline stores were made and how many reused (the tests read it). */
  timelineStoreStats(): Readonly<TimelineStores['stats']> {
    return { ...this.stores.stats };
  }

  /** What the boot core needs to know of this machine's recent past. */
  history(mac: Mac): ClientHistory {
    const record = this.clients.get(mac);
    if (!record) return {};
    const looping = record.verdicts.some((verdict) => verdict.kind === 'loop');
    const secureBootRefused = record.verdicts.some((verdict) => verdict.kind === 'secure-boot-refused');
    return {
      ...(secureBootRefused && { secureBootRefused: true }),
      ...(record.nbpDownloadedAt !== undefined && { nbpDownloadedAt: record.nbpDownloadedAt }),
      ...(record.nbpFile && { nbpFile: record.nbpFile }),
      ...(looping && { looping: true }),
    };
  }

  /**
   * The machine at `ip`: one seen there, or — for an IPv6 address the machine formed itself by SLAAC (an installer's
   * syslog lines come from it before pxedeck ever spoke to it) — the known machine whose MAC is inside it.
   */
  macForIp(ip: string): Mac | undefined {
    const seen = this.keys.find(`ip ${ip}`);
    if (seen || !ip.includes(':')) return seen;
    const inside = macFromEui64(ip);
    return inside && this.clients.has(inside) ? inside : undefined;
  }

  get(mac: Mac): ClientRecord | undefined {
    this.markSeen();
    return this.clients.get(mac);
  }

  subscribe = (listener: Listener): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): RegistrySnapshot => {
    if (this.snapshot) return this.snapshot;
    this.markSeen();
    this.snapshot = {
      version: this.version,
      clients: new Map(this.clients),
      servers: new Map(this.servers),
      foreignServers: this.foreign,
      routerAdverts: this.routerAdverts,
      malformed: this.malformed,
      evicted: this.evicted,
      limits: this.limits,
    };
    return this.snapshot;
  };
}

/** The DHCPv6 identity an event carries: `uuid`/`duid` on dhcp6.*, lease6.*; option 97 on a DHCPv4 request. */
function identityOf(event: PxedeckEvent): { uuid?: string; duid?: string } {
  switch (event.kind) {
    case 'dhcp6.received':
    case 'dhcp6.sent':
      return { ...(event.uuid && { uuid: event.uuid }), ...(event.duid && { duid: event.duid }) };
    case 'dhcp6.ignored':
    case 'lease6.granted':
    case 'lease6.released':
    case 'lease6.declined':
      return event.duid ? { duid: event.duid } : {};
    case 'dhcp.received': {
      const uuid = optionValue(event.options, '97:client-uuid');
      return typeof uuid === 'string' && /^[0-9a-f-]{36}$/i.test(uuid) ? { uuid } : {};
    }
    default:
      return {};
  }
}
