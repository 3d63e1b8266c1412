/**
 * Before serving full DHCP, ask the segment whether another DHCP server already answers: two servers
 * handing out addresses on one segment is the outage a technician must never cause.
 */
import { randomInt } from 'node:crypto';
import type { Socket } from 'node:dgram';
import { BROADCAST_FLAG, MessageType, Option } from '../../protocol/dhcp4/constants.js';
import { messageTypeOf, readAddressOption } from '../../protocol/dhcp4/options.js';
import { blankPacket, decode } from '../../protocol/dhcp4/packet.js';
import { encode } from '../../protocol/dhcp4/encode.js';
import { macToBytes, type Mac } from '../../protocol/mac.js';

/** Long enough to outlast dnsmasq's default 3 s ping check before it offers. */
export const DEFAULT_PROBE_MS = 4500;
const RESEND_MS = 1500;

export interface ForeignDhcpServer {
  readonly server: string;
  readonly offered: string;
  readonly bootFile?: string;
}

export interface ProbeOptions {
  /** A socket bound to the client port (68) on the served interface. */
  readonly socket: Socket;
  readonly mac: Mac;
  readonly serverPort?: number;
  readonly broadcastAddress?: string;
  readonly timeoutMs?: number;
}

export async function probeForDhcpServers(options: ProbeOptions): Promise<ForeignDhcpServer[]> {
  const xid = randomInt(1, 0xffffffff);
  const found = new Map<string, ForeignDhcpServer>();
  const onMessage = (bytes: Buffer, rinfo: { address: string }): void => {
    try {
      const packet = decode(bytes);
      if (packet.xid !== xid || messageTypeOf(packet) !== 'OFFER') return;
      const server = readAddressOption(packet, Option.SERVER_ID) ?? rinfo.address;
      const bootFile = packet.options.get(Option.BOOTFILE_NAME)?.toString('latin1') || packet.file || undefined;
      found.set(server, { server, offered: packet.yiaddr, ...(bootFile && { bootFile }) });
    } catch {
      // Anything undecodable on port 68 is not an offer to our probe.
    }
  };
  options.socket.on('message', onMessage);
  try {
    const discover = blankPacket({
      xid,
      flags: BROADCAST_FLAG,
      chaddr: Buffer.concat([macToBytes(options.mac), Buffer.alloc(10)]),
      options: new Map([
        [Option.MESSAGE_TYPE, Buffer.from([MessageType.DISCOVER])],
        [Option.PARAMETER_REQUEST_LIST, Buffer.from([1, 3, 6, 54])],
      ]),
    });
    const bytes = encode(discover);
    const send = () =>
      new Promise<void>((resolve, reject) =>
        options.socket.send(bytes, options.serverPort ?? 67, options.broadcastAddress ?? '255.255.255.255', (error) => (error ? reject(error) : resolve())),
      );
    // dnsmasq pings an address for ~3 s before offering it: keep asking, as a real client would, until then.
    const timeoutMs = options.timeoutMs ?? DEFAULT_PROBE_MS;
    const started = Date.now();
    await send();
    while (Date.now() - started < timeoutMs) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(RESEND_MS, timeoutMs - (Date.now() - started))));
      if (Date.now() - started < timeoutMs - 100) await send();
    }
  } finally {
    options.socket.off('message', onMessage);
  }
  return [...found.values()];
}
