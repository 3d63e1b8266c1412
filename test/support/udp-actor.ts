/**
 * A UDP endpoint driven over stdin/stdout, so a test can send and receive raw datagrams from inside a
 * network namespace (`ip netns exec NS node --import tsx udp-actor.ts`). Payloads travel as hex, so DHCP
 * packets built by the test process arrive byte for byte. One JSON object per line both ways; commands
 * carry a `seq` that the reply echoes; every datagram received is printed as it arrives.
 */
import type dgram from 'node:dgram';
import { createInterface } from 'node:readline';
import { openDeviceUdpSocket, openUdpSocket } from '../../src/servers/net/device-socket.js';

export type UdpActorCommand =
  | { op: 'open'; id: string; port: number; address?: string; device?: string; reuseAddress?: boolean }
  | { op: 'send'; id: string; address: string; port: number; hex: string }
  | { op: 'close'; id: string };

export type UdpActorOutput =
  | { op: 'ready'; pid: number }
  | { op: 'ok'; seq: number; port?: number }
  | { op: 'error'; seq: number; message: string }
  | { op: 'datagram'; id: string; hex: string; from: string; fromPort: number };

const sockets = new Map<string, dgram.Socket>();

function print(output: UdpActorOutput): void {
  process.stdout.write(`${JSON.stringify(output)}\n`);
}

async function run(command: UdpActorCommand): Promise<number | undefined> {
  switch (command.op) {
    case 'open': {
      const socket = command.device
        ? await openDeviceUdpSocket({ device: command.device, port: command.port, ...(command.address && { address: command.address }), ...(command.reuseAddress && { reuseAddress: true }) })
        : await openUdpSocket({ port: command.port, ...(command.address && { address: command.address }) });
      // Firmware broadcasts its DISCOVERs.
      socket.setBroadcast(true);
      socket.on('message', (data, from) => print({ op: 'datagram', id: command.id, hex: data.toString('hex'), from: from.address, fromPort: from.port }));
      sockets.set(command.id, socket);
      return socket.address().port;
    }
    case 'send': {
      const socket = sockets.get(command.id);
      if (!socket) throw new Error(`no socket ${command.id}`);
      await new Promise<void>((resolve, reject) =>
        socket.send(Buffer.from(command.hex, 'hex'), command.port, command.address, (error) => (error ? reject(error) : resolve())),
      );
      return undefined;
    }
    case 'close':
      sockets.get(command.id)?.close();
      sockets.delete(command.id);
      return undefined;
  }
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const { seq, ...command } = JSON.parse(line) as UdpActorCommand & { seq: number };
  run(command as UdpActorCommand).then(
    (port) => print({ op: 'ok', seq, ...(port !== undefined && { port }) }),
    (error: unknown) => print({ op: 'error', seq, message: error instanceof Error ? error.message : String(error) }),
  );
});
// The test closing our stdin is the signal to go.
lines.on('close', () => {
  for (const socket of sockets.values()) socket.close();
  process.exit(0);
});
print({ op: 'ready', pid: process.pid });
