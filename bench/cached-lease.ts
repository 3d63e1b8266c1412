/**
 * The Debathena seed's question, measured in the VM lab: does undionly.kkpxe (which keeps the PXE stack loaded)
 * save a BIOS machine the second DHCP exchange that undionly.kpxe makes? Boots the lab kernel through
 * pxedeck (full DHCP) on SeaBIOS + QEMU's iPXE ROM acting as the PXE stack (clients.json replaceIpxe, so the
 * ROM is chainloaded into the binary under test), alternating the two binaries, and prints per run: seconds
 * to the boot marker, DHCP exchanges the chainloaded iPXE made, and the time from the end of the binary's
 * download to the script request. Run it alone: `flock -x /work/.locks/heavy npm run bench:cached-lease`
 * (RUNS=3 by default; each boot ~12 s to the marker under TCG, ~3 min in all).
 */
import { createLab } from '../test/e2e/lab/network.js';
import { labMac, labUuid, startVm } from '../test/e2e/lab/vm.js';
import { labSkipReason, startPxedeck, startRouterAdvertisements } from '../test/e2e/support/pxedeck-lab.js';

const runs = Number(process.env.RUNS ?? 3);
const binaries = ['undionly.kpxe', 'undionly.kkpxe'] as const;

interface Figures {
  readonly binary: string;
  readonly markerSeconds: number;
  readonly dhcpExchanges: number;
  readonly nbpToScriptSeconds: number;
  /** The chainloaded iPXE's DHCP exchange, its first DISCOVER to the ACK: what reusing the lease could save at most. */
  readonly exchangeSeconds: number;
}

async function main(): Promise<void> {
  const skip = labSkipReason();
  if (skip) {
    console.log(`cached-lease bench skipped: ${skip}`);
    return;
  }
  const lab = await createLab();
  const figures: Figures[] = [];
  try {
    const stopRa = await startRouterAdvertisements(lab);
    for (let run = 0; run < runs; run += 1) {
      for (const binary of binaries) {
        const mac = labMac(run * 2 + (binary === 'undionly.kpxe' ? 0 : 1));
        const marker = `cached-${run}-${binary === 'undionly.kpxe' ? 'kpxe' : 'kkpxe'}`;
        const pxedeck = await startPxedeck(lab, { mode: 'dhcp', marker, clients: { [mac]: { replaceIpxe: true, biosBinary: binary } } });
        const tap = await lab.addTap();
        const vm = await startVm({ lab, tap, firmware: 'bios-ipxe', mac, uuid: labUuid() });
        try {
          await vm.waitForBoot(120_000);
          const markerSeconds = (Date.now() - vm.startedAt) / 1000;
          const events = pxedeck.events();
          const nbpDone = events.find((event) => event.kind === 'transfer.done' && event.file === binary);
          if (!nbpDone) throw new Error(`${binary} was not downloaded: the machine did not chainload it`);
          const after = events.filter((event) => event.time >= nbpDone.time);
          const acks = after.filter((event) => event.kind === 'dhcp.sent' && event.messageType === 'ACK');
          const discover = after.find((event) => event.kind === 'dhcp.received' && event.messageType === 'DISCOVER');
          const script = after.find((event) => event.kind === 'http.request' && event.route === 'script');
          const exchangeSeconds = discover && acks[0] ? (acks[0].time - discover.time) / 1000 : 0;
          figures.push({ binary, markerSeconds, dhcpExchanges: acks.length, nbpToScriptSeconds: script ? (script.time - nbpDone.time) / 1000 : Number.NaN, exchangeSeconds });
          console.log(
            `${binary.padEnd(15)} run ${run + 1}: marker ${markerSeconds.toFixed(1)} s, DHCP exchanges after the binary ${acks.length} ` +
              `(DISCOVER → ACK ${exchangeSeconds.toFixed(2)} s), binary → script ${figures.at(-1)!.nbpToScriptSeconds.toFixed(2)} s`,
          );
        } finally {
          await vm.stop();
          await pxedeck.stop();
        }
      }
    }
    await stopRa();
  } finally {
    await lab.destroy();
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  for (const binary of binaries) {
    const mine = figures.filter((entry) => entry.binary === binary);
    console.log(
      `${binary}: median marker ${median(mine.map((entry) => entry.markerSeconds)).toFixed(1)} s, ` +
        `median binary → script ${median(mine.map((entry) => entry.nbpToScriptSeconds)).toFixed(2)} s, ` +
        `median DISCOVER → ACK ${median(mine.map((entry) => entry.exchangeSeconds)).toFixed(2)} s, DHCP exchanges ${mine.map((entry) => entry.dhcpExchanges).join('/')}`,
    );
  }
}

await main();
