/**
 * Option negotiation for a read request (RFC 2347 framework; 2348 blksize; 2349 tsize and timeout; 7440
 * windowsize) as one pure function. A value we cannot use is ignored, never refused: the client then gets
 * the RFC 1350 default for it, which every client must handle (atftp sends `tsize enable`, for one).
 */
import type { TftpOption } from './packet.js';

export const BLKSIZE_MIN = 8;
export const BLKSIZE_MAX = 65464;
export const DEFAULT_BLKSIZE = 512;
/** 1500-byte Ethernet MTU minus IP (20) and UDP (8) headers and the 4-byte TFTP header. */
export const DEFAULT_BLKSIZE_CAP = 1468;

/**
 * The largest block whose DATA packet fits one frame of `mtu` bytes: no IP fragments, which a lost one
 * turns into the whole block lost and which firmware reassembles badly (or not at all).
 */
export function blksizeCapForMtu(mtu: number, family: 4 | 6): number {
  const headers = (family === 6 ? 40 : 20) + 8 + 4;
  return Math.max(DEFAULT_BLKSIZE, Math.min(BLKSIZE_MAX, Math.floor(mtu) - headers));
}
export const TIMEOUT_MIN = 1;
export const TIMEOUT_MAX = 255;
export const WINDOWSIZE_MIN = 1;
export const WINDOWSIZE_MAX = 65535;
export const DEFAULT_WINDOWSIZE_CAP = 64;
/**
 * Bound on blksize × windowsize. A window arrives as one burst and the receiver must buffer all of it:
 * atftp (default socket buffer) lost the tail of every 16 × 8192-byte window over a 1500-byte MTU
 * (fragments cost far more buffer than their payload) and stalled on the retransmission timer each time
 * (64 MB in 27 s); capped to 8 blocks the same run took 0.2 s. 64 KiB keeps 16 × 1468 and 64 × 512 whole.
 */
export const DEFAULT_WINDOW_BYTES_CAP = 64 * 1024;

export interface NegotiationLimits {
  /** Largest block the server offers: the smaller of the configured cap and the per-client cap. */
  readonly blksizeCap: number;
  readonly windowsizeCap: number;
  /** Upper bound on blksize × windowsize. */
  readonly windowBytesCap: number;
}

export const DEFAULT_LIMITS: NegotiationLimits = {
  blksizeCap: DEFAULT_BLKSIZE_CAP,
  windowsizeCap: DEFAULT_WINDOWSIZE_CAP,
  windowBytesCap: DEFAULT_WINDOW_BYTES_CAP,
};

export interface IgnoredOption extends TftpOption {
  readonly reason: string;
}

export interface Negotiation {
  /** Block size to send with (512 unless negotiated). */
  readonly blksize: number;
  /** Blocks per window (1 unless negotiated). */
  readonly windowsize: number;
  /** Seconds, when the client asked for a valid timeout. */
  readonly timeout?: number;
  /** The size we announced, when the client asked. */
  readonly tsize?: number;
  /** What goes into the OACK, in the client's order; empty means no OACK: start with DATA 1. */
  readonly oack: readonly TftpOption[];
  readonly ignored: readonly IgnoredOption[];
}

const DECIMAL = /^[0-9]{1,10}$/;

function parseDecimal(value: string): number | undefined {
  return DECIMAL.test(value) ? Number(value) : undefined;
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, Math.floor(value)));
}

/**
 * Decides the options of a read request. `fileSize` is undefined when the size cannot be announced
 * (netascii transfers, whose size on the wire differs from the file's).
 */
export function negotiateOptions(
  requested: readonly TftpOption[],
  fileSize: number | undefined,
  limits: NegotiationLimits = DEFAULT_LIMITS,
): Negotiation {
  const seen = new Set<string>();
  const valid = new Map<string, number>();
  const ignored: IgnoredOption[] = [];
  const order: string[] = [];

  for (const option of requested) {
    const name = option.name.toLowerCase();
    const reject = (reason: string): void => {
      ignored.push({ name: option.name, value: option.value, reason });
    };
    if (seen.has(name)) {
      reject('repeated');
      continue;
    }
    seen.add(name);
    const number = parseDecimal(option.value);
    switch (name) {
      case 'blksize':
        if (number === undefined || number < BLKSIZE_MIN || number > BLKSIZE_MAX) reject(`not ${BLKSIZE_MIN}–${BLKSIZE_MAX}`);
        else valid.set(name, number);
        break;
      case 'tsize':
        if (number === undefined) reject('not a number');
        else if (fileSize === undefined) reject('size unknown in this mode');
        else valid.set(name, number);
        break;
      case 'timeout':
        if (number === undefined || number < TIMEOUT_MIN || number > TIMEOUT_MAX) reject(`not ${TIMEOUT_MIN}–${TIMEOUT_MAX}`);
        else valid.set(name, number);
        break;
      case 'windowsize':
        if (number === undefined || number < WINDOWSIZE_MIN || number > WINDOWSIZE_MAX) {
          reject(`not ${WINDOWSIZE_MIN}–${WINDOWSIZE_MAX}`);
        } else valid.set(name, number);
        break;
      default:
        reject('unsupported');
        continue;
    }
    if (valid.has(name)) order.push(name);
  }

  const blksizeCap = clamp(limits.blksizeCap, BLKSIZE_MIN, BLKSIZE_MAX);
  const askedBlksize = valid.get('blksize');
  const blksize = askedBlksize === undefined ? DEFAULT_BLKSIZE : Math.min(askedBlksize, blksizeCap);
  const askedWindow = valid.get('windowsize');
  const windowCap = Math.min(
    clamp(limits.windowsizeCap, WINDOWSIZE_MIN, WINDOWSIZE_MAX),
    Math.max(1, Math.floor(limits.windowBytesCap / blksize)),
  );
  const windowsize = askedWindow === undefined ? 1 : Math.min(askedWindow, windowCap);
  const timeout = valid.get('timeout');
  const tsize = valid.has('tsize') ? fileSize : undefined;

  const answers: Record<string, number | undefined> = { blksize, windowsize, timeout, tsize };
  const oack = order.map((name) => ({ name, value: String(answers[name]) }));
  return {
    blksize,
    windowsize,
    ...(timeout === undefined ? {} : { timeout }),
    ...(tsize === undefined ? {} : { tsize }),
    oack,
    ignored,
  };
}
