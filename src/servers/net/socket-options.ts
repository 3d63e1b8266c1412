/**
 * Socket options Node does not expose, set on a descriptor through koffi. Linux values (x86, arm, riscv
 * alike; these constants differ only on mips/sparc/alpha).
 */
import { optionalLinuxCalls } from './libc.js';

export const SOL_SOCKET = 1;
export const SO_REUSEADDR = 2;
export const SO_RCVTIMEO = 20;
export const SOL_UDP = 17;
export const UDP_SEGMENT = 103;

const calls = optionalLinuxCalls((lib) => ({
  setsockopt: lib.func('int setsockopt(int fd, int level, int name, const void *value, uint32_t length)') as (
    fd: number,
    level: number,
    name: number,
    value: Buffer,
    length: number,
  ) => number,
}));

/** Sets an option from its bytes; false when it failed or cannot be set here. */
export function setSocketOption(fd: number, level: number, name: number, value: Buffer): boolean {
  const native = calls();
  if (!native) return false;
  try {
    return native.setsockopt(fd, level, name, value, value.length) === 0;
  } catch {
    return false;
  }
}

/** Sets an `int` option. */
export function setIntSocketOption(fd: number, level: number, name: number, value: number): boolean {
  const bytes = Buffer.alloc(4);
  bytes.writeInt32LE(value);
  return setSocketOption(fd, level, name, bytes);
}
