/**
 * The control API's handlers: JSON bodies turned into assignment-store commands, and the client list the
 * API returns. The API server (src/servers/http/control-api.ts) owns HTTP, auth and the routes.
 */
import type { BootTarget } from '../boot/boot-target.js';
import { checkSourceVariables, servedSource } from './served-source.js';
import { ControlError, type ControlHandlers } from '../servers/http/control-api.js';
import type { AssignmentStore } from '../state/assignments.js';
import type { BootPlanner } from '../state/boot-plans.js';
import type { ProfileLibrary } from '../state/profile-library.js';
import type { ClientRegistry } from '../state/registry.js';

export interface ControlAdapterOptions {
  readonly registry: ClientRegistry;
  readonly assignments: AssignmentStore;
  readonly planner: BootPlanner;
  /** The library as it is now: it is reloaded when profiles change. */
  readonly library: () => ProfileLibrary;
  /** The only directory an assigned `kernel`/`initrds` file may come from (URLs aside). */
  readonly bootDir: string;
}

export function controlHandlers({ registry, assignments, planner, library, bootDir }: ControlAdapterOptions): ControlHandlers {
  return {
    listClients: ({ limit, after }) => {
      const { clients, evicted, limits } = registry.getSnapshot();
      const macs = [...clients.keys()].sort();
      const start = after === undefined ? 0 : macs.findIndex((mac) => mac > after);
      const page = start === -1 ? [] : macs.slice(start, start + limit);
      const more = start !== -1 && start + limit < macs.length;
      return {
        // Timelines and syslog lines stay out (up to 400 events a machine): `pxedeck report MAC` has them.
        clients: page.map((mac) => {
          const { timeline: _timeline, log: _log, ...record } = clients.get(mac)!;
          return { ...record, assignment: assignments.get(mac) ?? null, target: planner.target(mac) };
        }),
        total: macs.length,
        ...(more && { next: page.at(-1) }),
        evicted,
        limits,
      };
    },
    assign: (mac, body) => {
      try {
        const target = controlTarget(body, library(), bootDir);
        const options = controlOptions(body);
        const profile = target.kind === 'profile' ? library().profiles.get(target.profile) : undefined;
        if (profile) checkSourceVariables(profile, { ...assignments.get(mac)?.variables, ...options.variables }, bootDir);
        return { mac, assignment: assignments.assign(mac, target, options) };
      } catch (error) {
        throw new ControlError(400, (error as Error).message);
      }
    },
    hold: (mac) => ({ mac, assignment: assignments.hold(mac) }),
    release: (mac) => ({ mac, assignment: assignments.release(mac) }),
  };
}

function fieldsOf(body: unknown): Record<string, unknown> {
  return (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
}

/** The assign body: { profile } | { menu } | { kernel, initrds, cmdline } | { target: "local" | "ignore" | "hold" }. */
export function controlTarget(body: unknown, library: ProfileLibrary, bootDir: string): BootTarget {
  const value = fieldsOf(body);
  if (typeof value.profile === 'string') {
    if (!library.profiles.has(value.profile)) throw new Error(`profile "${value.profile}" does not exist`);
    return { kind: 'profile', profile: value.profile };
  }
  if (typeof value.menu === 'string') {
    if (!library.menus.has(value.menu)) throw new Error(`menu "${value.menu}" does not exist`);
    return { kind: 'menu', menu: value.menu };
  }
  if (typeof value.kernel === 'string') {
    const initrds = Array.isArray(value.initrds) ? value.initrds.filter((item): item is string => typeof item === 'string') : [];
    return {
      kind: 'inline',
      kernel: servedSource('kernel', value.kernel, bootDir),
      initrds: initrds.map((initrd, index) => servedSource(`initrds[${index}]`, initrd, bootDir)),
      cmdline: typeof value.cmdline === 'string' ? value.cmdline : '',
    };
  }
  if (value.target === 'local' || value.target === 'ignore' || value.target === 'hold') return { kind: value.target };
  throw new Error('give "profile", "menu", "kernel" (with "initrds", "cmdline") or "target": "local" | "ignore" | "hold"');
}

function controlOptions(body: unknown): { once?: boolean; variables?: Record<string, string> } {
  const value = fieldsOf(body);
  const variables =
    typeof value.variables === 'object' && value.variables !== null
      ? (Object.fromEntries(Object.entries(value.variables).filter(([, item]) => typeof item === 'string')) as Record<string, string>)
      : undefined;
  return { ...(value.once === true && { once: true }), ...(variables && { variables }) };
}
