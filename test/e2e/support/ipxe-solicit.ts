/**
 * A bench machine's DHCPv6 Solicit, as iPXE's BIOS ROM sent it in the lab (a captured packet), sent from
 * a UDP actor in the machine's namespace: what pxedeck's Advertise offers as the boot file URL.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect } from 'vitest';
import { MessageType, Option } from '../../../src/protocol/dhcp6/constants.js';
import { decodeBootFileUrl } from '../../../src/protocol/dhcp6/options.js';
import { decode, encode, findOption, type Dhcp6ClientServerMessage } from '../../../src/protocol/dhcp6/packet.js';
import type { NetnsLab, UdpActor } from '../../support/netns.js';

const fixture = resolve(import.meta.dirname, '../../fixtures/dhcp6/v6-bios-ipxe-rom.bios-ipxe-rom.solicit.hex');
const ipxeSolicit = decode(Buffer.from(readFileSync(fixture, 'utf8').replace(/\s+/g, ''), 'hex')) as Dhcp6ClientServerMessage;

/**
 * Returns a function that multicasts the Solicit (a fresh transaction id each time) from the actor's socket
 * `socketId` on `device` and resolves to the Advertise's boot URL, or undefined when none came in time.
 */
export function ipxeSolicitor(machine: UdpActor, options: { socketId: string; device: string; firstTransactionId: number; timeoutMs: number }) {
  let transactionId = options.firstTransactionId;
  return async (): Promise<string | undefined> => {
    const id = (transactionId += 1);
    const from = machine.datagrams.length;
    await machine.must({ op: 'send', id: options.socketId, address: `ff02::1:2%${options.device}`, port: 547, hex: encode({ ...ipxeSolicit, transactionId: id }).toString('hex') });
    const answer = await machine.datagram(
      (datagram) => machine.datagrams.indexOf(datagram) >= from && (decode(datagram.bytes) as Dhcp6ClientServerMessage).transactionId === id,
      options.timeoutMs,
    );
    if (!answer) return undefined;
    const reply = decode(answer.bytes) as Dhcp6ClientServerMessage;
    expect(reply.msgType).toBe(MessageType.ADVERTISE);
    const url = findOption(reply, Option.BOOTFILE_URL);
    return url && decodeBootFileUrl(url);
  };
}

/**
 * The machine's end of a bench-port test (a veth `bench0` in `laptop`, `eth0` in `machine`): both link-local
 * addresses usable, a UDP actor on the machine's DHCPv6 client port, and its Solicit sender.
 */
export async function dhcp6BenchMachine(
  lab: NetnsLab,
  ns: { readonly laptop: string; readonly machine: string },
  options: { firstTransactionId: number; timeoutMs: number },
): Promise<{ machine: UdpActor; solicit: () => Promise<string | undefined> }> {
  await lab.linkLocalReady(ns.laptop, 'bench0');
  await lab.linkLocalReady(ns.machine, 'eth0');
  const machine = await lab.udpActor(ns.machine, 'bench machine');
  await machine.must({ op: 'open', id: 'dhcp6', port: 546, address: '::', device: 'eth0' });
  return { machine, solicit: ipxeSolicitor(machine, { socketId: 'dhcp6', device: 'eth0', ...options }) };
}
