/**
 * The boot planners of a run: one naming pxedeck by its IPv4 address, and one by the IPv6 address boot URLs
 * use now (it follows the interface). Scripts for clients that came over IPv6 name kernels by the IPv6 URL;
 * IPv4 clients keep the IPv4 one. On an IPv6-only interface there is only the IPv6 planner.
 */
import { isIPv6 } from 'node:net';
import type { BootTarget } from '../boot/boot-target.js';
import type { AssignmentStore } from '../state/assignments.js';
import { createBootPlanner, newNamedSources, type BootPlanner } from '../state/boot-plans.js';
import type { ClientPolicyStore } from '../state/client-policies.js';
import type { ProfileLibrary } from '../state/profile-library.js';
import { httpBaseOf } from './served-interface.js';

export interface PlannerSetOptions {
  /** Absent on an IPv6-only interface. */
  readonly address4: string | undefined;
  readonly address6: string | undefined;
  readonly httpPort: number;
  readonly library: () => ProfileLibrary;
  readonly assignments: AssignmentStore;
  readonly policies: ClientPolicyStore;
  readonly defaultTarget: BootTarget;
}

export interface PlannerSet {
  readonly v4: BootPlanner | undefined;
  readonly v6: BootPlanner | undefined;
  /** For what concerns no one address family (DHCP policy, the control API, PXELINUX and GRUB files): IPv4's, else IPv6's. */
  readonly main: BootPlanner;
  /** The planner whose URLs a client at `ip` can reach. */
  forIp(ip: string): BootPlanner;
  setAddress6(address: string | undefined): void;
  /** Upstream cache id → URL, from whichever planner named it. */
  upstreamUrl(id: string): string | undefined;
}

export function createPlannerSet(options: PlannerSetOptions): PlannerSet {
  const named = newNamedSources();
  // Installers get the planner's own address as log_host= / inst.syslog= (a bare address; they send to 514):
  // pxedeck's syslog receiver listens on each address it serves.
  const plannerOn = (address: string) =>
    createBootPlanner({
      serverBase: httpBaseOf(address, options.httpPort),
      library: options.library,
      assignments: options.assignments,
      policies: options.policies,
      defaultTarget: options.defaultTarget,
      syslogServer: address,
      named,
    });
  const v4 = options.address4 ? plannerOn(options.address4) : undefined;
  let v6 = options.address6 ? plannerOn(options.address6) : undefined;
  let main = v4 ?? v6;
  if (!main) throw new Error('a planner set needs an IPv4 or an IPv6 address');
  return {
    v4,
    get v6() {
      return v6;
    },
    get main() {
      return main!;
    },
    forIp: (ip) => (v6 && (!v4 || (isIPv6(ip) && !ip.startsWith('::ffff:'))) ? v6 : main!),
    setAddress6: (address) => {
      v6 = address ? plannerOn(address) : undefined;
      // IPv6 only: the main planner follows the address, and keeps the last one while there is none.
      if (!v4 && v6) main = v6;
    },
    upstreamUrl: (id) => named.upstream.get(id),
  };
}
