/** A scripted DHCP client built from our own codec, for loopback tests: real UDP, real bytes. */
import { createSocket, type Socket } from 'node:dgram';
import { MessageType, Option } from '../../src/protocol/dhcp4/constants.js';
import { addresses, encodeClientArch, encodeUserClass } from '../../src/protocol/dhcp4/options.js';
import { blankPacket, decode, type DhcpPacket } from '../../src/protocol/dhcp4/packet.js';
import { encode } from '../../src/protocol/dhcp4/encode.js';

export type ClientProfile = 'bios-pxe' | 'uefi-pxe' | 'ipxe-bios' | 'ipxe-rfc3004' | 'ipxe-175-only' | 'plain' | 'arm64-pxe' | 'http-boot';

export interface RequestSpec {
  readonly type: keyof typeof MessageType;
  readonly mac: string;
  readonly profile?: ClientProfile;
  readonly xid?: number;
  readonly requestedIp?: string;
  readonly serverId?: string;
  readonly ciaddr?: string;
  readonly flags?: number;
}

const uuidOption = Buffer.concat([Buffer.from([0]), Buffer.from('8d9b1c2a3f4e5d6c7b8a99aabbccddee', 'hex')]);

export function buildRequest(spec: RequestSpec): DhcpPacket {
  const options = new Map<number, Buffer>([[Option.MESSAGE_TYPE, Buffer.from([MessageType[spec.type]])]]);
  options.set(Option.MAX_MESSAGE_SIZE, Buffer.from([0x05, 0xc0]));
  const profile = spec.profile ?? 'plain';
  const pxe = (arch: number, undi: string) => {
    options.set(Option.CLIENT_ARCH, encodeClientArch([arch]));
    options.set(Option.CLIENT_NDI, Buffer.from([1, 2, 1]));
    options.set(Option.VENDOR_CLASS, Buffer.from(`PXEClient:Arch:${String(arch).padStart(5, '0')}:UNDI:${undi}`));
    options.set(Option.CLIENT_UUID, uuidOption);
  };
  switch (profile) {
    case 'bios-pxe':
      pxe(0, '002001');
      break;
    case 'uefi-pxe':
      pxe(7, '003000');
      break;
    case 'arm64-pxe':
      pxe(11, '003000');
      break;
    case 'http-boot':
      options.set(Option.CLIENT_ARCH, encodeClientArch([16]));
      options.set(Option.VENDOR_CLASS, Buffer.from('HTTPClient:Arch:00016:UNDI:003000'));
      break;
    case 'ipxe-bios':
      pxe(0, '002001');
      options.set(Option.USER_CLASS, Buffer.from('iPXE'));
      options.set(Option.IPXE, Buffer.from([19, 1, 1, 21, 1, 1, 235, 3, 1, 0, 0]));
      break;
    case 'ipxe-rfc3004':
      pxe(0, '002001');
      options.set(Option.USER_CLASS, encodeUserClass({ form: 'rfc3004', classes: ['iPXE'] }));
      break;
    case 'ipxe-175-only':
      pxe(7, '003010');
      options.set(Option.IPXE, Buffer.from([19, 1, 1]));
      break;
    case 'plain':
      break;
  }
  if (spec.requestedIp) options.set(Option.REQUESTED_IP, addresses(spec.requestedIp));
  if (spec.serverId) options.set(Option.SERVER_ID, addresses(spec.serverId));
  return blankPacket({
    xid: spec.xid ?? Math.floor(Math.random() * 0xffffffff),
    flags: spec.flags ?? 0x8000,
    ciaddr: spec.ciaddr ?? '0.0.0.0',
    chaddr: Buffer.concat([Buffer.from(spec.mac.replace(/:/g, ''), 'hex'), Buffer.alloc(10)]),
    options,
  });
}

export interface TestDhcpClient {
  readonly port: number;
  readonly socket: Socket;
  send(packet: DhcpPacket | Buffer, port: number, address?: string): Promise<void>;
  /** Resolves with the next reply whose xid matches, or null after `timeoutMs`. */
  reply(xid: number, timeoutMs?: number): Promise<{ packet: DhcpPacket; bytes: Buffer; from: string } | null>;
  close(): void;
}

export async function openTestClient(address = '127.0.0.1'): Promise<TestDhcpClient> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, address, resolve));
  const inbox: Array<{ packet: DhcpPacket; bytes: Buffer; from: string }> = [];
  const waiters: Array<() => void> = [];
  socket.on('message', (bytes, rinfo) => {
    try {
      inbox.push({ packet: decode(bytes), bytes, from: `${rinfo.address}:${rinfo.port}` });
    } catch {
      return;
    }
    waiters.splice(0).forEach((wake) => wake());
  });
  return {
    port: socket.address().port,
    socket,
    send: (packet, port, to = address) =>
      new Promise((resolve, reject) => socket.send(Buffer.isBuffer(packet) ? packet : encode(packet), port, to, (error) => (error ? reject(error) : resolve()))),
    async reply(xid, timeoutMs = 1000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const index = inbox.findIndex((entry) => entry.packet.xid === xid);
        if (index >= 0) return inbox.splice(index, 1)[0]!;
        const left = deadline - Date.now();
        if (left <= 0) return null;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },
    close: () => socket.close(),
  };
}
