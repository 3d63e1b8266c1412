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
import { ClientKeys, NO_KEYS, type ClientKey } from './client-keys.js';
import { foldForeignServer, type ForeignServers } from './foreign-servers.js';
import { foldRouterAdvert, noRouterAdverts, type RouterAdvertView } from './router-adverts.js';
import { clearDiagnosisState, diagnose, newDiagnosisState, type DiagnosisOptions, type DiagnosisState, type Verdict } from './diagnosis.js';
import { optionValue } from '../protocol/dhcp4/options-view.js';
import { foldEvent, newRecord, renewRecord, type ClientRecord, type Draft } from './client-record.js';
import { TimelineStores } from './timeline-stores.js';
import { RecencyList } from './recency-list.js';

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
  /**
   * One entry per machine, holding all the registry keeps of it. Under a burst of machines it has never seen
   * (perfdhcp's 10,000 MACs against the 1,000 kept), each lives ~250 ms, long enough to be promoted, and dies:
   * what it takes is what the old generation fills with between full collections (docs/performance.md).
   */
  private readonly machines = new Map<Mac, MachineEntry>();
  /** The same entries, least recently seen first: the order the bounds forget them in. */
  private readonly recency = new RecencyList<MachineEntry>();
  private readonly servers = new Map<string, ServerState>();
  private foreign: ForeignServers = new Map();
  /**
   * IP → MAC for HTTP, TFTP and syslog. DHCPv6 names a client by DUID, not MAC: a UUID (keyed across iPXE's and
   * OVMF's byte orders) or DUID seen once beside a MAC folds later MAC-less DHCPv6 events into the same record.
   */
  private readonly keys = new ClientKeys();
  /** The timelines' buffers: a forgotten machine's go to the next new one while nobody has looked (timeline-stores.ts). */
  private readonly stores = new TimelineStores();
  /**
   * Entries of forgotten machines whose records nobody outside the registry ever saw: the next new machines
   * take them over, record and diagnosis state included, instead of leaving them to the collector. Under a
   * burst of machines it has never seen, that was most of what the old generation filled with. A stack
   * linked through their `older` (a spare entry is in no recency list), so keeping one allocates nothing.
   */
  private spareEntry: MachineEntry | undefined;
  private spareEntries = 0;
  private entriesReused = 0;
  private readonly newVerdicts: Array<{ mac: Mac; verdict: Verdict }> = [];
  private readonly listeners = new Set<Listener>();
  private readonly timelineLimit: number;
  private readonly limits: RegistryLimits;
  private readonly diagnosisOptions: DiagnosisOptions | undefined;
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
   * Looks so far: each snapshot or `get` hands records out. A record made or copied since the last look (its
   * entry's `look` is this one) has been seen by nobody, so the next event may change it in place. A record
   * is copied once per look, not once per event: under load, most events change a record nobody has seen
   * yet, and a copy per event was garbage that lived long enough to be collected the costly way.
   */
  private looks = 0;

  constructor(options: RegistryOptions = {}) {
    this.timelineLimit = options.timelineLimit ?? 200;
    this.limits = { ...DEFAULT_REGISTRY_LIMITS, ...options.limits };
    // A field of the registry's own, not read through `options` on every event: each caller's options object
    // has its own shape (the DHCP warm-up's registry is made with other options than the real one), and the
    // fold compiled during the warm-up was thrown away at the real registry's first packet for it.
    this.diagnosisOptions = options.diagnosis;
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
    return (uuid ? this.keys.find('uuid', uuidMatchKey(uuid)) : undefined) ?? (duid ? this.keys.find('duid', duid) : undefined);
  }

  private foldClient(mac: Mac, event: PxedeckEvent, serialised: StoredEvent = serialiseEvent(event)): void {
    let entry = this.machines.get(mac);
    if (entry) this.recency.touch(entry);
    else {
      entry = this.takeSpareEntry(mac, event.time) ?? {
        mac,
        record: newRecord(mac, event.time, this.timelineLimit),
        diagnosis: undefined,
        keys: NO_KEYS,
        spareKeys: undefined,
        look: this.looks,
        born: this.looks,
        older: undefined,
        newer: undefined,
      };
      this.machines.set(mac, entry);
      this.recency.append(entry);
    }
    const { uuid, duid } = identityOf(event);
    if (uuid) this.keys.link(mac, entry, 'uuid', uuidMatchKey(uuid));
    if (duid) this.keys.link(mac, entry, 'duid', duid);
    const draft = this.draftOf(entry);
    draft.lastSeen = event.time;
    const ring = event.kind === 'syslog.line' ? 'log' : 'timeline';
    const kept = draft[ring].length;
    draft[ring] = draft[ring].append(serialised, this.stores);
    this.events += draft[ring].length - kept;
    if (event.ip && event.kind !== 'lease.released' && event.kind !== 'lease6.released') {
      draft.ip = event.ip;
      this.keys.link(mac, entry, 'ip', event.ip);
    }

    foldEvent(draft, event);
    if (event.kind !== 'client.diagnosis') {
      const verdict = diagnose((entry.diagnosis ??= newDiagnosisState()), event, this.foreignServerNames(), this.diagnosisOptions);
      if (verdict) {
        draft.verdicts = [...draft.verdicts, verdict];
        this.newVerdicts.push({ mac, verdict });
      }
    }
    this.evictBeyondLimits(entry);
  }

  /** A forgotten machine's entry made over for `mac`, first heard of at `time`; none when no entry is spare. */
  private takeSpareEntry(mac: Mac, time: number): MachineEntry | undefined {
    const entry = this.spareEntry;
    if (!entry) return undefined;
    this.spareEntry = entry.older;
    this.spareEntries -= 1;
    entry.older = undefined;
    this.entriesReused += 1;
    entry.mac = mac;
    renewRecord(entry.record as Draft, mac, time, this.timelineLimit);
    if (entry.diagnosis) clearDiagnosisState(entry.diagnosis);
    entry.look = this.looks;
    entry.born = this.looks;
    return entry;
  }

  /**
   * The record to change for this event: the machine's own if nobody has seen it yet, else a copy, which the
   * console tells from the old one by identity.
   */
  private draftOf(entry: MachineEntry): Draft {
    if (entry.look !== this.looks) {
      entry.look = this.looks;
      // Timelines never change (an append makes a new one), so the copy shares them.
      entry.record = { ...entry.record };
    }
    return entry.record as Draft;
  }

  /** Records handed out from here on must not change: the next event of each machine copies it first. */
  private markSeen(): void {
    this.looks += 1;
    this.stores.lookedAt();
  }

  /** Forgets the machines seen least recently until the records and their events fit; never `current`. */
  private evictBeyondLimits(current: MachineEntry): void {
    for (const entry of this.recency) {
      if (this.machines.size <= this.limits.maxClients && this.events <= this.limits.maxEvents) return;
      if (entry === current) return;
      this.machines.delete(entry.mac);
      this.recency.remove(entry);
      // A record made before the last look may be on screen or in a report: it must stay as it was.
      const spare = entry.born === this.looks && this.spareEntries < MAX_SPARE_ENTRIES;
      this.keys.forget(entry.mac, entry, spare);
      entry.record.timeline.giveBackTo(this.stores);
      entry.record.log.giveBackTo(this.stores);
      this.events -= entry.record.timeline.length + entry.record.log.length;
      this.evicted += 1;
      if (spare) {
        entry.older = this.spareEntry;
        this.spareEntry = entry;
        this.spareEntries += 1;
      }
    }
  }

  /** How many timeline stores were made and how many reused (the tests read it). */
  timelineStoreStats(): Readonly<TimelineStores['stats']> {
    return { ...this.stores.stats };
  }

  /** How many new machines took over a forgotten machine's entry (the tests read it). */
  reusedEntries(): number {
    return this.entriesReused;
  }

  /** What the boot core needs to know of this machine's recent past. */
  history(mac: Mac): ClientHistory {
    const record = this.machines.get(mac)?.record;
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
    const seen = this.keys.find('ip', ip);
    if (seen || !ip.includes(':')) return seen;
    const inside = macFromEui64(ip);
    return inside && this.machines.has(inside) ? inside : undefined;
  }

  get(mac: Mac): ClientRecord | undefined {
    this.markSeen();
    return this.machines.get(mac)?.record;
  }

  subscribe = (listener: Listener): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): RegistrySnapshot => {
    if (this.snapshot) return this.snapshot;
    this.markSeen();
    // Filled in place: a [mac, record] pair per machine for the Map's constructor was garbage at every frame.
    const clients = new Map<Mac, ClientRecord>();
    for (const entry of this.recency) clients.set(entry.mac, entry.record);
    this.snapshot = {
      version: this.version,
      clients,
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

/** Spare entries kept at most: a burst forgets about as many machines as it brings, one at a time. */
const MAX_SPARE_ENTRIES = 16;

/** All the registry keeps of one machine. */
interface MachineEntry {
  /** Changed only when a forgotten machine's entry is taken over by a new one. */
  mac: Mac;
  /** Replaced by a copy at the first event after a look (`looks`); changed in place until the next look. */
  record: ClientRecord;
  /** Made at the machine's first event that diagnosis reads. */
  diagnosis: DiagnosisState | undefined;
  keys: readonly ClientKey[];
  spareKeys: ClientKey[] | undefined;
  /** The look during which `record` was made or copied. */
  look: number;
  /** The look during which `record` was made (not copied): while it is the current one, nobody has seen any of it. */
  born: number;
  older: MachineEntry | undefined;
  newer: MachineEntry | undefined;
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
