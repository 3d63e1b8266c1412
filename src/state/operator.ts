/**
 * The operator's hands: what the console dispatches (assign a profile or menu, boot once, hold, release,
 * ignore, clear, per-machine variables), on one machine or many at once. Built on the same stores a
 * `pxedeck assign` from a shell writes, so a running server picks each change up on the machine's next
 * request, and a change another process makes shows up here too.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describeTarget as describeBootTarget, effectiveTarget, type Assignment, type BootTarget } from '../boot/boot-target.js';
import type { RenderResult } from '../boot/ipxe-script.js';
import { macToHexHyphen, macToPxelinuxName, type Mac } from '../protocol/mac.js';
import { openAssignments, type AssignmentStore } from './assignments.js';
import { createBootPlanner, type BootPlanner } from './boot-plans.js';
import { nextUefiChoice, openClientPolicies, uefiChoiceText, withUefiBootProgram, type ClientPolicyStore, type UefiChoice } from './client-policies.js';
import { profileLibraryLoader, type ProfileLibrary } from './profile-library.js';
import { openIsoLibrary } from './iso-library.js';
import { openSettings } from './settings.js';
import { scanBootFiles } from '../servers/boot-files.js';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../servers/files/private-files.js';

export type OperatorAction =
  | { readonly kind: 'profile'; readonly profile: string; readonly once?: boolean }
  | { readonly kind: 'menu'; readonly menu: string; readonly once?: boolean }
  | { readonly kind: 'local' }
  | { readonly kind: 'hold' }
  | { readonly kind: 'release' }
  | { readonly kind: 'ignore' }
  /** Back to the default for unknown machines (also undoes ignore). */
  | { readonly kind: 'clear' }
  /** Sets (non-empty) or removes (empty string) per-machine variables, keeping the rest of the assignment. */
  | { readonly kind: 'variables'; readonly variables: Readonly<Record<string, string>> }
  /** What x64 UEFI starts: iPXE, the Secure Boot chain, the default; `next` steps through them (the console's key). */
  | { readonly kind: 'uefi'; readonly choice: UefiChoice | 'next' };

export interface OperatorResult {
  readonly ok: boolean;
  readonly message: string;
  readonly macs: readonly Mac[];
}

export interface Choice {
  readonly id: string;
  readonly title: string;
  readonly description?: string;
}

/** Where the script a machine gets is served from, and what unknown machines get: both change with settings. */
export interface PlannerConfig {
  readonly serverBase: string;
  readonly defaultTarget: BootTarget;
}

export interface OperatorOptions extends PlannerConfig {
  readonly dataDir: string;
  readonly presetsDir: string;
  /** ISO files named on the command line (--iso); those in the boot directory and isos/ are found anyway. */
  readonly isoFiles?: readonly string[];
  readonly now?: () => number;
}

export interface Operator {
  readonly dataDir: string;
  dispatch(macs: readonly Mac[], action: OperatorAction): OperatorResult;
  assignment(mac: Mac): Assignment | undefined;
  /** What the machine boots on its next request, the default included. */
  target(mac: Mac): BootTarget;
  /** Short text for the table: "debian-installer once", "menu default", "held → alpine", "default: menu default". */
  describe(mac: Mac): string;
  /** No assignment of its own: the machine follows the default ("all new" selects these). */
  isNew(mac: Mac): boolean;
  profiles(): readonly Choice[];
  menus(): readonly Choice[];
  /** Variable names worth offering for these machines: hostname, extra_args and what their profiles declare. */
  variableNames(macs: readonly Mac[]): readonly string[];
  /** The machine's own variables (not the profile's defaults). */
  variables(mac: Mac): Readonly<Record<string, string>>;
  /** The exact iPXE script `/ipxe?mac=` renders for this machine right now. */
  ipxeScript(mac: Mac, ip?: string): RenderResult;
  /** The PXELINUX config `pxelinux.cfg/01-<mac>` renders for it. */
  pxelinuxConfig(mac: Mac, ip?: string): string | null;
  /** The GRUB config `grub/grub.cfg` renders for it (the Secure Boot chain). */
  grubConfig(mac: Mac, ip?: string): string | null;
  /** Writes a report file under DATA_DIR/reports; returns its path. */
  saveReport(mac: Mac, text: string): string;
  reconfigure(config: PlannerConfig): void;
  reloadLibrary(): void;
  /** Assignment changes, ours or another process's: for useSyncExternalStore. */
  subscribe(listener: () => void): () => void;
  getVersion(): number;
  close(): void;
}

function stamp(time: number): string {
  return new Date(time).toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

export function openOperator(options: OperatorOptions): Operator {
  const now = options.now ?? Date.now;
  const assignments: AssignmentStore = openAssignments(options.dataDir, now);
  const policies: ClientPolicyStore = openClientPolicies(options.dataDir);
  // ISO profiles join the picker once their images have been read (a few ms each, off the first frame).
  const bootDir = resolve(openSettings(options.dataDir).load().bootDir ?? join(options.dataDir, 'boot'));
  const isos = openIsoLibrary({ dataDir: options.dataDir, bootDir, ...(options.isoFiles && { files: options.isoFiles }), bootFiles: () => scanBootFiles(bootDir).names });
  const loadLibraryFiles = profileLibraryLoader(options.presetsDir, [options.dataDir]);
  const loadLibrary = (): ProfileLibrary => isos.merge(loadLibraryFiles());
  let library: ProfileLibrary = loadLibrary();
  let config: PlannerConfig = { serverBase: options.serverBase, defaultTarget: options.defaultTarget };
  const makePlanner = (): BootPlanner =>
    createBootPlanner({ serverBase: config.serverBase, library: () => library, assignments, policies, defaultTarget: config.defaultTarget });
  let planner = makePlanner();
  let version = 0;
  const listeners = new Set<() => void>();
  const changed = () => {
    version += 1;
    for (const listener of listeners) listener();
  };
  const stopFollowing = assignments.follow(() => changed());

  /** Keeps what the operator set before (variables, PXELINUX choice) when the target changes. */
  const assignKeeping = (mac: Mac, target: BootTarget, once: boolean | undefined) => {
    const current = assignments.get(mac);
    assignments.assign(mac, target, {
      ...(once && { once: true }),
      ...(current?.variables && { variables: { ...current.variables } }),
      ...(current?.pxelinux && { pxelinux: current.pxelinux }),
    });
  };

  function applyOne(mac: Mac, action: OperatorAction): void {
    switch (action.kind) {
      case 'profile':
        assignKeeping(mac, { kind: 'profile', profile: action.profile }, action.once);
        return;
      case 'menu':
        assignKeeping(mac, { kind: 'menu', menu: action.menu }, action.once);
        return;
      case 'local':
      case 'ignore':
        assignKeeping(mac, { kind: action.kind }, false);
        return;
      case 'hold':
        assignments.hold(mac);
        return;
      case 'release':
        assignments.release(mac);
        return;
      case 'clear': {
        // Variables are the operator's knowledge of the machine: they outlive a cleared target.
        const variables = assignments.get(mac)?.variables;
        assignments.update(mac, () => (variables && Object.keys(variables).length > 0 ? { variables } : undefined));
        return;
      }
      case 'uefi': {
        const policy = policies.get(mac);
        policies.set(mac, withUefiBootProgram(policy, action.choice === 'next' ? nextUefiChoice(policy) : action.choice));
        return;
      }
      case 'variables':
        assignments.update(mac, (current) => {
          const merged: Record<string, string> = { ...current?.variables };
          for (const [name, value] of Object.entries(action.variables)) {
            if (value === '') delete merged[name];
            else merged[name] = value;
          }
          const { variables: _dropped, ...rest } = current ?? {};
          const next: Assignment = { ...rest, ...(Object.keys(merged).length > 0 && { variables: merged }) };
          return Object.keys(next).length > 0 ? next : undefined;
        });
        return;
    }
  }

  function validate(action: OperatorAction): string | undefined {
    if (action.kind === 'profile' && !library.profiles.has(action.profile)) {
      return `profile "${action.profile}" does not exist; profiles: ${[...library.profiles.keys()].join(', ')}`;
    }
    if (action.kind === 'menu' && !library.menus.has(action.menu)) {
      return `menu "${action.menu}" does not exist; menus: ${[...library.menus.keys()].join(', ')}`;
    }
    if (action.kind === 'variables') {
      const bad = Object.keys(action.variables).find((name) => !/^[a-z_][a-z0-9_]*$/.test(name));
      if (bad !== undefined) return `"${bad}" is not a variable name; use lower-case letters, digits and _`;
      const multiLine = Object.entries(action.variables).find(([, value]) => /[\r\n]/.test(value));
      if (multiLine) return `${multiLine[0]} must be one line`;
    }
    return undefined;
  }

  function summary(action: OperatorAction, macs: readonly Mac[]): string {
    const count = macs.length;
    const machines = count === 1 ? '1 machine' : `${count} machines`;
    switch (action.kind) {
      case 'profile':
        return `${machines} → ${action.profile}${action.once ? ' once, then the local disk' : ''}`;
      case 'menu':
        return `${machines} → menu ${action.menu}${action.once ? ' once' : ''}`;
      case 'local':
        return `${machines} → local disk`;
      case 'hold':
        return `${machines} held: they wait until released or assigned`;
      case 'release':
        return `${machines} released`;
      case 'ignore':
        return `${machines} ignored: pxedeck no longer answers them`;
      case 'clear':
        return `${machines} back to the default`;
      case 'uefi': {
        const choices = new Set<UefiChoice>(macs.map((mac) => (action.choice === 'next' ? (policies.get(mac).uefiBootProgram ?? 'default') : action.choice)));
        return `${machines}: ${choices.size === 1 ? uefiChoiceText[[...choices][0]!] : 'x64 UEFI boot program changed'}`;
      }
      case 'variables':
        return `${machines}: ${Object.entries(action.variables).map(([name, value]) => (value === '' ? `${name} removed` : `${name}=${value}`)).join(', ')}`;
    }
  }

  const operator: Operator = {
    dataDir: options.dataDir,
    dispatch(macs, action) {
      const unique = [...new Set(macs)];
      if (unique.length === 0) return { ok: false, message: 'no machine selected', macs: [] };
      const problem = validate(action);
      if (problem) return { ok: false, message: problem, macs: [] };
      try {
        for (const mac of unique) applyOne(mac, action);
      } catch (error) {
        changed();
        return { ok: false, message: `could not save ${assignments.path}: ${(error as Error).message}`, macs: [] };
      }
      changed();
      return { ok: true, message: summary(action, unique), macs: unique };
    },
    assignment: (mac) => assignments.get(mac),
    target: (mac) => effectiveTarget(assignments.get(mac), config.defaultTarget),
    describe(mac) {
      const assignment = assignments.get(mac);
      const target = effectiveTarget(assignment, config.defaultTarget);
      if (!assignment?.target && !assignment?.held) return `(${describeBootTarget(target)})`;
      if (assignment.held) return assignment.target ? `held → ${describeBootTarget(assignment.target)}` : 'held';
      if (assignment.once && assignment.consumedAt !== undefined) return `local (once done)`;
      return `${describeBootTarget(target)}${assignment.once ? ' once' : ''}`;
    },
    isNew: (mac) => {
      const assignment = assignments.get(mac);
      return !assignment?.target && !assignment?.held;
    },
    profiles: () =>
      [...library.profiles.values()].map((profile) => ({ id: profile.id, title: profile.title, ...(profile.description && { description: profile.description }) })),
    menus: () => [...library.menus.values()].map((menu) => ({ id: menu.id, title: menu.title })),
    variableNames(macs) {
      const names = new Set<string>(['hostname', 'extra_args']);
      for (const mac of macs) {
        const target = operator.target(mac);
        const profile = target.kind === 'profile' ? library.profiles.get(target.profile) : undefined;
        for (const name of Object.keys(profile?.variables ?? {})) names.add(name);
        for (const name of Object.keys(assignments.get(mac)?.variables ?? {})) names.add(name);
      }
      return [...names];
    },
    variables: (mac) => assignments.get(mac)?.variables ?? {},
    ipxeScript: (mac, ip) => planner.renderIpxe({ mac, ...(ip && { ip }) }),
    pxelinuxConfig: (mac, ip) => planner.renderPxelinux(`pxelinux.cfg/${macToPxelinuxName(mac)}`, mac, ip),
    grubConfig: (mac, ip) => planner.renderGrub('grub/grub.cfg', mac, ip),
    saveReport(mac, text) {
      const dir = join(options.dataDir, 'reports');
      mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
      const path = join(dir, `${macToHexHyphen(mac)}-${stamp(now())}.txt`);
      writeFileSync(path, text, { mode: PRIVATE_FILE_MODE });
      return path;
    },
    reconfigure(next) {
      config = next;
      planner = makePlanner();
      changed();
    },
    reloadLibrary() {
      library = loadLibrary();
      planner = makePlanner();
      void isos.refresh().then(() => {
        library = loadLibrary();
        planner = makePlanner();
        changed();
      });
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    getVersion: () => version,
    close: () => {
      stopFollowing();
      void isos.close();
    },
  };
  operator.reloadLibrary();
  return operator;
}
