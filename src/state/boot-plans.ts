/**
 * Joins the stores (assignments, client policies, the profile library) with the pure boot core: what the
 * DHCP, TFTP and HTTP servers hand a given machine right now. Servers receive these functions from main.
 */
import { createHash } from 'node:crypto';
import { effectiveTarget, type BootTarget } from '../boot/boot-target.js';
import type { ClientPolicy } from '../boot/dhcp-decision.js';
import { grubConfigName, renderGrubConfig, unknownMachineGrubConfig, type GrubContext } from '../boot/grub-config.js';
import { renderIpxeScript, type RenderResult } from '../boot/ipxe-script.js';
import { isoFileUrlPath, parseIsoSource } from '../boot/iso/iso-profile.js';
import type { Source } from '../boot/profile.js';
import { renderPxelinuxConfig, type PxelinuxContext } from '../boot/pxelinux-config.js';
import { sourcesFor, type MachineContext } from '../boot/render-context.js';
import type { ConfinedFile } from '../servers/files/confined-open.js';
import { macToHexHyphen, parseMac, type Mac } from '../protocol/mac.js';
import type { AssignmentStore } from './assignments.js';
import type { ClientPolicyStore } from './client-policies.js';
import type { ProfileLibrary } from './profile-library.js';

/** Files and upstream URLs that renders named, by the name they are served under. The planners of one run share one. */
export interface NamedSources {
  /** URL name → the local file, confined to its own directory. */
  readonly local: Map<string, ConfinedFile>;
  /** Upstream cache id → URL. */
  readonly upstream: Map<string, string>;
}

export function newNamedSources(): NamedSources {
  return { local: new Map(), upstream: new Map() };
}

export interface BootPlannerOptions {
  readonly serverBase: string;
  readonly library: () => ProfileLibrary;
  readonly assignments: AssignmentStore;
  readonly policies: ClientPolicyStore;
  /** What unknown machines get. */
  readonly defaultTarget: BootTarget;
  readonly syslogServer?: string;
  /** Shared with the run's other planners, so a file one of them named is served whichever address it was asked on. */
  readonly named?: NamedSources;
}

export interface IpxeRequest extends MachineContext {
  /** A menu selection coming back (`&profile=`). */
  readonly profile?: string;
  /** What an external decision source answered for this request; wins over the local assignment. */
  readonly external?: BootTarget;
}

export interface BootPlanner {
  dhcpPolicy(mac: Mac): ClientPolicy;
  renderIpxe(request: IpxeRequest): RenderResult;
  /** For the TFTP server: `pxelinux.cfg/<anything>` for a known machine; null when the path is not one. */
  renderPxelinux(path: string, mac: Mac | undefined, ip: string | undefined): string | null;
  /** For the TFTP server: a GRUB config name (`grub/grub.cfg`, `grub.cfg-01-<mac>`…); null when the path is not one. */
  renderGrub(path: string, mac: Mac | undefined, ip: string | undefined): string | null;
  /** The served URL for a source: local paths under /files, upstream URLs through the cache. */
  sourceUrl(source: Source): string;
  /** Upstream cache id → URL, for the HTTP server. */
  upstreamUrl(id: string): string | undefined;
  /**
   * Absolute local files named by the operator (quick mode, `pxedeck assign --kernel`): URL name → the file,
   * served at the root, confined to its own directory.
   */
  localFiles(): ReadonlyMap<string, ConfinedFile>;
  target(mac: Mac): BootTarget;
}

/** Where pxedeck's GRUB configs live on TFTP: Debian's signed network GRUB reads `<prefix>/grub.cfg`, prefix `/grub`. */
export const GRUB_CONFIG = 'grub/grub.cfg';

/** GRUB reads this over TFTP just before it boots: pxedeck marks the machine booted (iPXE's `/booted`). */
export function grubBeaconPath(mac: Mac): string {
  return `pxedeck/booted-${macToHexHyphen(mac)}`;
}

/** The MAC a beacon path names, or undefined when the path is not a beacon. */
export function grubBeaconMac(path: string): Mac | undefined {
  const match = /^\/?pxedeck\/booted-([0-9a-f-]{17})$/i.exec(path);
  return match ? (parseMac(match[1]!) ?? undefined) : undefined;
}

export function upstreamId(url: string): string {
  return createHash('sha256').update(url).digest('hex').slice(0, 16);
}

export function createBootPlanner(options: BootPlannerOptions): BootPlanner {
  const { upstream, local } = options.named ?? newNamedSources();

  /**
   * Only the operator names absolute paths (profiles are confined to the boot directory when loaded, the
   * control API to URLs and the boot directory): served like every file, through confinement to its own
   * directory, so a symlink put in its place later cannot lead elsewhere.
   */
  function localName(path: string): string {
    const base = path.split('/').pop() || 'file';
    const name = `local-${upstreamId(path).slice(0, 8)}-${base.replace(/[^A-Za-z0-9._-]/g, '_')}`;
    local.set(name, { root: path.slice(0, path.length - base.length) || '/', path: base });
    return name;
  }

  function sourceUrl(source: Source): string {
    const inIso = parseIsoSource(source);
    if (inIso) return `${options.serverBase}${isoFileUrlPath(inIso.id, inIso.path)}`;
    if (source.startsWith('/')) return `${options.serverBase}/${localName(source)}`;
    if (/^https?:\/\//i.test(source)) {
      const id = upstreamId(source);
      upstream.set(id, source);
      const name = source.split(/[?#]/)[0]!.split('/').pop() || 'file';
      return `${options.serverBase}/upstream/${id}/${encodeURIComponent(name)}`;
    }
    return `${options.serverBase}/files/${source.split('/').map(encodeURIComponent).join('/')}`;
  }

  /** Upstream sources over TFTP (signed GRUB has no HTTP): `/upstream/<id>/<name>`, fetched through the cache. */
  function upstreamTftpPath(source: Source): string {
    sourceUrl(source);
    const name = (source.split(/[?#]/)[0]!.split('/').pop() || 'file').replace(/[^A-Za-z0-9._-]/g, '_');
    return `/upstream/${upstreamId(source)}/${name}`;
  }

  function grubContext(mac: Mac): GrubContext {
    return {
      ...context(),
      grubPath: (source) => {
        // GRUB reads an ISO's files over TFTP, as ranges of the image (see runtime-isos.ts).
        const inIso = parseIsoSource(source);
        if (inIso) return `/iso/${inIso.id}/${inIso.path}`;
        return /^https?:\/\//i.test(source) ? upstreamTftpPath(source) : `/${source.startsWith('/') ? localName(source) : source}`;
      },
      configPath: `/${GRUB_CONFIG}`,
      beaconPath: `/${grubBeaconPath(mac)}`,
    };
  }

  function context(): PxelinuxContext {
    const library = options.library();
    return {
      serverBase: options.serverBase,
      sourceUrl,
      tftpPath: (source) => {
        // PXELINUX reads an ISO's files over TFTP, as ranges of the image (see runtime-isos.ts).
        const inIso = parseIsoSource(source);
        if (inIso) return `iso/${inIso.id}/${inIso.path}`;
        return /^https?:\/\//i.test(source) ? sourceUrl(source) : source.startsWith('/') ? localName(source) : source;
      },
      profiles: library.profiles,
      menus: library.menus,
      ...(options.syslogServer && { syslogServer: options.syslogServer }),
    };
  }

  // Register every source the library and the default name, so their URLs resolve even before a render.
  for (const profile of options.library().profiles.values()) {
    const sources = sourcesFor(profile, profile.variables);
    for (const source of [sources.kernel, ...sources.initrds]) if (source) sourceUrl(source);
  }
  if (options.defaultTarget.kind === 'inline') for (const source of [options.defaultTarget.kernel, ...options.defaultTarget.initrds]) sourceUrl(source);

  const target = (mac: Mac) => effectiveTarget(options.assignments.get(mac), options.defaultTarget);

  return {
    target,
    dhcpPolicy(mac) {
      const policy = options.policies.get(mac);
      return target(mac).kind === 'ignore' ? { ...policy, ignore: true } : policy;
    },
    renderIpxe(request) {
      const assignment = options.assignments.get(request.mac);
      // The external source's answer stands in for the assignment; a menu selection counts against it too.
      const decided = request.external ? { ...assignment, target: request.external, once: false, held: false } : assignment;
      return renderIpxeScript(decided, options.defaultTarget, request, context(), request.profile);
    },
    renderPxelinux(path, mac, ip) {
      const match = /^\/?pxelinux\.cfg\/(.+)$/.exec(path);
      if (!match) return null;
      const name = match[1]!;
      const machineMac = mac ?? parseMac(name) ?? undefined;
      if (!machineMac) return null;
      const result = renderPxelinuxConfig(options.assignments.get(machineMac), options.defaultTarget, { mac: machineMac, ...(ip && { ip }) }, context());
      return result.ok ? result.text : `# pxedeck: ${result.message}\nDEFAULT local\nLABEL local\n  LOCALBOOT 0\n`;
    },
    renderGrub(path, mac, ip) {
      const name = grubConfigName(path);
      if (!name) return null;
      const machineMac = mac ?? (name.suffix ? (parseMac(name.suffix) ?? undefined) : undefined);
      if (!machineMac) return unknownMachineGrubConfig(`/${GRUB_CONFIG}`);
      const machine: MachineContext = { mac: machineMac, ...(ip && { ip }) };
      const result = renderGrubConfig(options.assignments.get(machineMac), options.defaultTarget, machine, grubContext(machineMac));
      return result.ok ? result.text : `# pxedeck: ${result.message}\necho ${JSON.stringify(`pxedeck: ${result.message}`)}\nsleep 10\nexit\n`;
    },
    sourceUrl,
    upstreamUrl: (id) => upstream.get(id),
    localFiles: () => local,
  };
}
