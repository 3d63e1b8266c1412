/**
 * The Secure Boot self-repair's memory: once Secure Boot refused iPXE on a machine, pxedeck sets that machine
 * to the signed chain in clients.json, so every later power-on boots it on the first try. A choice the
 * operator made (either way) is never overwritten.
 */
import type { Mac } from '../protocol/mac.js';
import type { ClientPolicyStore } from '../state/client-policies.js';
import type { Verdict } from '../state/diagnosis.js';

export function rememberSecureBoot(policies: ClientPolicyStore, mac: Mac, verdict: Verdict): void {
  if (verdict.kind !== 'secure-boot-refused') return;
  const policy = policies.get(mac);
  if (policy.uefiBootProgram !== undefined) return;
  policies.set(mac, { ...policy, uefiBootProgram: 'signed', secureBootLearnedAt: verdict.at });
}
