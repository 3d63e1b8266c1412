// A foreign DHCP server hands undionly.kpxe to everyone, iPXE included: the classic chainboot loop.
// pxedeck must flag it within the second turn and name the server that caused it.
import { describe, expect, it } from 'vitest';
import type { DiagnosisEvent } from '../../src/servers/events.js';
import { startLoopingSiteServer } from './lab/services.js';
import { labMac, labUuid, startVm } from './lab/vm.js';
import { labSkipReason, sharedLab, startPxedeck } from './support/pxedeck-lab.js';

const skipReason = labSkipReason();

describe.skipIf(skipReason !== undefined)(`loop diagnosis in the lab${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  const shared = sharedLab();

  it('flags LOOP and names the foreign server that hands iPXE undionly.kpxe', async () => {
    const { lab } = shared;
    const foreign = await startLoopingSiteServer(lab);
    const mac = labMac(40);
    // pxedeck (proxy) ignores this machine, so only the foreign server answers it and the loop runs.
    const pxedeck = await startPxedeck(lab, { mode: 'proxy', assignments: { [mac]: { target: { kind: 'ignore' } } } });
    const tap = await lab.addTap();
    const vm = await startVm({ lab, tap, firmware: 'bios-ipxe', mac, uuid: labUuid() });
    try {
      const verdict = await pxedeck.waitFor<DiagnosisEvent>((event) => event.kind === 'client.diagnosis' && event.mac === mac, 'LOOP diagnosis', 90_000);
      expect(verdict).toMatchObject({ verdict: 'loop', severity: 'error' });
      expect(verdict.cause).toMatch(/10\.77\.0\.2/);
      expect(verdict.fix).toMatch(/10\.77\.0\.2 give iPXE .* the script URL/);
      const sessions = pxedeck.events().filter((event) => event.kind === 'dhcp.received' && event.mac === mac && event.messageType === 'DISCOVER');
      expect(new Set(sessions.map((event) => (event as { xid: number }).xid)).size).toBeLessThanOrEqual(3);
    } finally {
      await vm.stop();
      await pxedeck.stop();
      await foreign.stop();
    }
  }, 150_000);
});
