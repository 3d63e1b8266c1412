/** What the operator (or the default) says a machine boots, and how one assignment resolves to a target. */
import type { Source } from './profile.js';

export type BootTarget =
  | { readonly kind: 'profile'; readonly profile: string }
  | { readonly kind: 'menu'; readonly menu: string }
  | { readonly kind: 'local' }
  | { readonly kind: 'hold' }
  | { readonly kind: 'ignore' }
  /** Kernel/initrd given directly: quick mode, `pxedeck assign --kernel`, an external decision source. */
  | { readonly kind: 'inline'; readonly kernel: Source; readonly initrds: readonly Source[]; readonly cmdline: string }
  /** A whole iPXE script from an external decision source. */
  | { readonly kind: 'script'; readonly script: string };

export interface Assignment {
  /** Absent: the machine follows the default for unknown machines. */
  readonly target?: BootTarget;
  /** Held machines wait in an iPXE poll loop until released or assigned. */
  readonly held?: boolean;
  /** Released from a hold without a target of its own: boots the release target, not the default hold. */
  readonly released?: boolean;
  /** Boot the target once, then the local disk. */
  readonly once?: boolean;
  /** When a `once` assignment reported booted: from then on the machine boots locally. */
  readonly consumedAt?: number;
  /** Per-machine variables: hostname, extra_args and any the profile declares. */
  readonly variables?: Readonly<Record<string, string>>;
  /** On the PXELINUX path: chain to iPXE (default) or boot the kernel from PXELINUX itself. */
  readonly pxelinux?: 'chain-ipxe' | 'direct';
  readonly assignedAt?: number;
}

/** What an unknown machine released from a hold boots when the default is to hold. */
export const RELEASE_TARGET: BootTarget = { kind: 'menu', menu: 'default' };

export function effectiveTarget(assignment: Assignment | undefined, fallback: BootTarget, releaseTarget: BootTarget = RELEASE_TARGET): BootTarget {
  if (assignment?.held) return { kind: 'hold' };
  if (assignment?.target) {
    if (assignment.once && assignment.consumedAt !== undefined) return { kind: 'local' };
    return assignment.target;
  }
  if (fallback.kind === 'hold' && assignment?.released) return releaseTarget;
  return fallback;
}

export function describeTarget(target: BootTarget): string {
  switch (target.kind) {
    case 'profile':
      return target.profile;
    case 'menu':
      return `menu ${target.menu}`;
    case 'inline':
      return `kernel ${target.kernel}`;
    case 'script':
      return 'external script';
    default:
      return target.kind;
  }
}
