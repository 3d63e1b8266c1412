/**
 * A process that opens, uses and closes UDP sockets on command, so a test can act inside a network
 * namespace (`ip netns exec NS node --import tsx udp-actor.ts`; the client side is UdpActor in netns.ts).
 * One JSON object per line both ways: commands on stdin carry a `seq` that the reply echoes; received
 * datagrams and interface changes are printed as they happen. Datagrams travel as hex, so packets built by
 * the test process arrive byte for byte; a send may carry plain `text` instead.
 */
import type dgram from 'node:dgram';
import { createInterface } from 'node:readline';
import { openDeviceUdpSocket, openUdpSocket } from '../../src/servers/net/device-socket.js';
import { SocketOpenError } from '../../src/servers/net/socket-open-error.js';
import { watchInterface, type InterfaceWatcher } from '../../src/servers/net/interface-watch.js';

export type UdpActorCommand =
  | { op: 'open'; id: string; port: number; device?: string; address?: string; family?: 4 | 6; reuseAddress?: boolean }
  | ({ op: 'send'; id: string; address: string; port: number } & ({ text: string } | { hex: string }))
  | { op: 'close'; id: string }
  | { op: 'watch'; name: string; intervalMs: number }
  | { op: 'setuid'; uid: number };

export type UdpActorOutput =
  | { op: 'ready'; pid: number }
  | { op: 'ok'; seq: number; port?: number }
  | { op: 'error'; seq: number; code?: string; message: string; holderPids?: number[] }
  | { op: 'datagram'; id: string; hex: string; from: string; fromPort: number }
  | { op: 'ifchange'; name: string; needsNewSocket: boolean; present: boolean; index?: number };

const sockets = new Map<string, dgram.Socket>();
const watchers: InterfaceWatcher[] = [];

function print(output: UdpActorOutput): void {
  process.stdout.write(`${JSON.stringify(output)}\n`);
}

async function run(command: UdpActorCommand): Promise<number | undefined> {
  switch (command.op) {
    case 'open': {
      const { port, address, family, device, reuseAddress } = command;
      const socket = device
        ? await openDeviceUdpSocket({ device, port, address, family, reuseAddress })
        : await openUdpSocket({ port, address, family });
      // Firmware broadcasts its DISCOVERs (a pinned IPv4 socket has SO_BROADCAST already); IPv6 has no broadcast.
      if (socket.address().family === 'IPv4') socket.setBroadcast(true);
      socket.on('message', (data, from) =>
        print({ op: 'datagram', id: command.id, hex: data.toString('hex'), from: from.address, fromPort: from.port }),
      );
      sockets.set(command.id, socket);
      return socket.address().port;
    }
    case 'send': {
      const socket = sockets.get(command.id);
      if (!socket) throw new Error(`no socket ${command.id}`);
      const payload = 'hex' in command ? Buffer.from(command.hex, 'hex') : Buffer.from(command.text);
      await new Promise<void>((resolve, reject) =>
        socket.send(payload, command.port, command.address, (error) => (error ? reject(error) : resolve())),
      );
      return undefined;
    }
    case 'close':
      sockets.get(command.id)?.close();
      sockets.delete(command.id);
      return undefined;
    case 'watch':
      watchers.push(
        watchInterface(
          command.name,
          (change) =>
            print({
              op: 'ifchange',
              name: change.name,
              needsNewSocket: change.needsNewSocket,
              present: change.current.present,
              ...(change.current.index !== undefined && { index: change.current.index }),
            }),
          { intervalMs: command.intervalMs },
        ),
      );
      return undefined;
    case 'setuid':
      if (!process.setgid || !process.setuid) throw new Error('setuid is POSIX only');
      process.setgid(command.uid);
      process.setuid(command.uid);
      return undefined;
  }
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const { seq, ...command } = JSON.parse(line) as UdpActorCommand & { seq: number };
  run(command as UdpActorCommand).then(
    (port) => print({ op: 'ok', seq, ...(port !== undefined && { port }) }),
    (error: unknown) => {
      const err = error as NodeJS.ErrnoException;
      print({
        op: 'error',
        seq,
        message: error instanceof Error ? error.message : String(error),
        ...(typeof err?.code === 'string' && { code: err.code }),
        ...(error instanceof SocketOpenError && {
          holderPids: error.holders.flatMap((holder) => (holder.pid === undefined ? [] : [holder.pid])),
        }),
      });
    },
  );
});
// The test closing our stdin is the signal to go, whatever sockets are still open.
lines.on('close', () => {
  for (const watcher of watchers) watcher.close();
  for (const socket of sockets.values()) socket.close();
  process.exit(0);
});
print({ op: 'ready', pid: process.pid });
