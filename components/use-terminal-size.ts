/**
 * The terminal's size, re-read on every 'resize'. Ink 6 stops listening for resize when CI is set, so the
 * console relies on this hook (and tests drive it by emitting 'resize' on the stream).
 */
import { useStdout } from 'ink';
import { useEffect, useState } from 'react';

export interface TerminalSize {
  readonly columns: number;
  readonly rows: number;
}

interface SizedStream {
  readonly columns?: number;
  readonly rows?: number;
  on(event: 'resize', listener: () => void): unknown;
  off(event: 'resize', listener: () => void): unknown;
}

export function readSize(stream: Partial<SizedStream> | undefined): TerminalSize {
  return { columns: stream?.columns || 80, rows: stream?.rows || 24 };
}

export function useTerminalSize(fixed?: TerminalSize): TerminalSize {
  const { stdout } = useStdout();
  const stream = stdout as unknown as SizedStream | undefined;
  const [size, setSize] = useState(() => fixed ?? readSize(stream));
  useEffect(() => {
    if (fixed || !stream?.on) return undefined;
    const onResize = () =>
      setSize((previous) => {
        const next = readSize(stream);
        return next.columns === previous.columns && next.rows === previous.rows ? previous : next;
      });
    stream.on('resize', onResize);
    onResize();
    return () => {
      stream.off('resize', onResize);
    };
  }, [stream, fixed]);
  return fixed ?? size;
}
