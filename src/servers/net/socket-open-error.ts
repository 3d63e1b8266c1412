/**
 * A socket pxedeck could not open, told as the operator can act on it: which port, who holds it (read from
 * /proc), and the way around. UDP sockets (device-socket.ts) and HTTP's TCP listeners (http/listen.ts) fail
 * through here. No native code: the console's thread checks `instanceof SocketOpenError` without loading koffi.
 */
import { readdirSync } from 'node:fs';
import { describePortHolders, findPortHolders, type IpFamily, type PortHolder, type SocketProtocol } from './port-holder.js';

export interface SocketOpenContext {
  readonly syscall: string;
  readonly address: string;
  readonly port: number;
  readonly family: IpFamily;
  readonly device?: string;
  /** UDP unless said (every server but HTTP's and the control API's). */
  readonly protocol?: SocketProtocol;
  /** What moves this port, when it is not one of the well-known UDP ones: a flag or a setting. */
  readonly portSetting?: string;
}

/** A socket that could not be opened, with a message an operator can act on. */
export class SocketOpenError extends Error {
  override readonly name = 'SocketOpenError';
  constructor(
    message: string,
    readonly code: string,
    readonly context: SocketOpenContext,
    /** On EADDRINUSE: who holds the port, as far as we could see. */
    readonly holders: readonly PortHolder[] = [],
  ) {
    super(message);
  }
}

function where(context: SocketOpenContext): string {
  const host = context.family === 6 ? `[${context.address}]` : context.address;
  return `${(context.protocol ?? 'udp').toUpperCase()} ${host}:${context.port}${context.device ? ` on ${context.device}` : ''}`;
}

function interfaceNames(): string[] {
  try {
    return readdirSync('/sys/class/net').sort();
  } catch {
    return [];
  }
}

/** What usually holds each of our well-known ports, and the way around it. */
function wayOutOfTakenPort(context: SocketOpenContext): string {
  const { port, protocol, portSetting } = context;
  if (protocol === 'tcp') {
    const usually = port === 80 || port === 8080 ? 'A web server (nginx, apache2, lighttpd) usually holds it, or another pxedeck. ' : '';
    return `${usually}Stop it${portSetting ? `, or give pxedeck another port with ${portSetting}` : ''}.`;
  }
  switch (port) {
    case 69:
      return 'Stop the TFTP server that holds it (tftpd-hpa, dnsmasq with enable-tftp), or give pxedeck another port with --tftp-port.';
    case 514:
      return 'Another syslog receiver (rsyslog or syslog-ng with UDP input) listens there: give pxedeck another port with --syslog-port, or turn that input off.';
    case 67:
    case 68:
    case 547:
    case 4011:
      return 'Stop dnsmasq / NetworkManager shared mode on this interface, or run pxedeck on another interface.';
    default:
      return 'Stop that process, or give pxedeck another port with the matching --…-port flag.';
  }
}

/** Pure: the operator-facing message for a failed socket call. */
export function explainSocketError(
  code: string,
  context: SocketOpenContext,
  holders: readonly PortHolder[] = [],
  knownInterfaces: readonly string[] = [],
): string {
  const target = where(context);
  switch (code) {
    case 'EADDRINUSE': {
      const holder = holders.length > 0 ? describePortHolders(holders) : 'another process (we could not see which)';
      return `Cannot listen on ${target}: the port is already in use by ${holder}. ${wayOutOfTakenPort(context)}`;
    }
    case 'EACCES':
    case 'EPERM':
      if (context.syscall === 'setsockopt(SO_BINDTODEVICE)') {
        return `Cannot pin ${target}: binding a socket to an interface needs root or CAP_NET_RAW on this kernel.`;
      }
      return (
        `Cannot listen on ${target}: ${code}. Ports below 1024 (DHCP 67, TFTP 69, HTTP 80) need root or ` +
        `CAP_NET_BIND_SERVICE: run pxedeck with sudo (or with that capability, e.g. from a systemd unit's ` +
        `AmbientCapabilities=CAP_NET_BIND_SERVICE).`
      );
    case 'ENODEV': {
      const known = knownInterfaces.length > 0 ? ` This machine has: ${knownInterfaces.join(', ')}.` : '';
      return `Cannot listen on ${target}: there is no network interface named "${context.device}" (any more).${known}`;
    }
    case 'EADDRNOTAVAIL':
      return `Cannot listen on ${target}: ${context.address} is not an address of this machine.`;
    default:
      return `Cannot listen on ${target}: ${context.syscall} failed with ${code}.`;
  }
}

/** Same family first; a dual-stack IPv6 socket also blocks IPv4 binds (and the reverse), so then the other. */
async function holdersOf(context: SocketOpenContext): Promise<PortHolder[]> {
  try {
    const holders = await findPortHolders(context.port, { protocol: context.protocol ?? 'udp' });
    const sameFamily = holders.filter((holder) => holder.family === context.family);
    return sameFamily.length > 0 ? sameFamily : holders;
  } catch {
    // Finding the holder must not hide the error itself.
    return [];
  }
}

/** The error for a socket call that failed with errno `code`, with who holds the port when it is taken. */
export async function socketOpenError(code: string, context: SocketOpenContext): Promise<SocketOpenError> {
  const holders = code === 'EADDRINUSE' ? await holdersOf(context) : [];
  const names = code === 'ENODEV' ? interfaceNames() : [];
  return new SocketOpenError(explainSocketError(code, context, holders, names), code, context, holders);
}
