/**
 * The C library, loaded once through koffi (prebuilt FFI) for the socket options and system calls Node
 * does not expose: SO_BINDTODEVICE, raw ICMPv6, UDP segmentation, sendfile(2). Callers declare the
 * functions they need on the handle.
 */
import koffi from 'koffi';

export type LibcHandle = ReturnType<typeof koffi.load>;

let handle: LibcHandle | undefined;

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
