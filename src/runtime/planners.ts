/**
 * The boot planners of a run: one naming pxedeck by its IPv4 address, and one by the IPv6 address boot URLs
 * use now (it follows the interface). Scripts for clients that came over IPv6 name kernels by the IPv6 URL;
 * IPv4 clients keep the IPv4 one.
 */
import { isIPv6 } from 'node:net';
import type { BootTarget } from '../boot/boot-target.js';
import type { AssignmentStore } from '../state/assignments.js';
import { createBootPlanner, newNamedSources, type BootPlanner } from '../state/boot-plans.js';
import type { ClientPolicyStore } from '../state/client-policies.js';
import type { ProfileLibrary } from '../state/profile-library.js';
import { httpBaseOf } from './served-interface.js';

export interface PlannerSetOptions {
  readonly address4: string;
  readonly address6: string | undefined;
  readonly httpPort: number;
  readonly library: () => ProfileLibrary;
  readonly assignments: AssignmentStore;
  readonly policies: ClientPolicyStore;
  readonly defaultTarget: BootTarget;
  /** Installers get it as log_host= / inst.syslog=; both take a bare address and send to 514. */
  readonly syslogServer: string;
}

export interface PlannerSet {
  readonly v4: BootPlanner;
  readonly v6: BootPlanner | undefined;
  /** The planner whose URLs a client at `ip` can reach. */
  forIp(ip: string): BootPlanner;
  setAddress6(address: string | undefined): void;
  /** Upstream cache id → URL, from whichever planner named it. */
  upstreamUrl(id: string): string | undefined;
}

export function createPlannerSet(options: PlannerSetOptions): PlannerSet {
  const named = newNamedSources();
  const plannerOn = (address: string) =>
    createBootPlanner({
      serverBase: httpBaseOf(address, options.httpPort),
      library: options.library,
      assignments: options.assignments,
      policies: options.policies,
      defaultTarget: options.defaultTarget,
      syslogServer: options.syslogServer,
      named,
    });
  const v4 = plannerOn(options.address4);
  let v6 = options.address6 ? plannerOn(options.address6) : undefined;
  return {
    v4,
    get v6() {
      return v6;
    },
    forIp: (ip) => (v6 && isIPv6(ip) && !ip.startsWith('::ffff:') ? v6 : v4),
    setAddress6: (address) => {
      v6 = address ? plannerOn(address) : undefined;
    },
    upstreamUrl: (id) => v4.upstreamUrl(id) ?? v6?.upstreamUrl(id),
  };
}
