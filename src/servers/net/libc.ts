/**
 * The C library, loaded once through koffi (prebuilt FFI) for the socket options and system calls Node
 * does not expose: SO_BINDTODEVICE, raw ICMPv6, UDP segmentation, sendfile(2). Callers declare the
 * functions they need on the handle.
 */
import koffi from 'koffi';

export type LibcHandle = ReturnType<typeof koffi.load>;

let handle: LibcHandle | undefined;

/** Linux errno values the socket code reports by name. */
const ERRNO_NAMES: Readonly<Record<number, string>> = {
  1: 'EPERM',
  9: 'EBADF',
  13: 'EACCES',
  19: 'ENODEV',
  22: 'EINVAL',
  24: 'EMFILE',
  97: 'EAFNOSUPPORT',
  98: 'EADDRINUSE',
  99: 'EADDRNOTAVAIL',
  100: 'ENETDOWN',
  101: 'ENETUNREACH',
  105: 'ENOBUFS',
};

/** The name of the errno the last failed libc call left behind (`errno N` for ones not listed). */
export function lastErrnoName(): string {
  const errno = koffi.errno();
  return ERRNO_NAMES[errno] ?? `errno ${errno}`;
}

/** Throws when koffi cannot load (a platform without its prebuilt binary): callers decide what that means. */
export function libc(): LibcHandle {
  if (handle) return handle;
  try {
    handle = koffi.load('libc.so.6');
  } catch {
    // musl and others: the symbols are already in the process.
    handle = koffi.load(null);
  }
  return handle;
}

/**
 * A table of libc functions, declared on first use; null where they cannot be had (not Linux, koffi
 * without its prebuilt binary): callers then keep to Node's own, slower path.
 */
export function optionalLinuxCalls<T>(declare: (lib: LibcHandle) => T): () => T | null {
  let table: T | null | undefined;
  return () => {
    if (table !== undefined) return table;
    table = null;
    if (process.platform !== 'linux') return null;
    try {
      table = declare(libc());
    } catch {
      table = null;
    }
    return table;
  };
}
