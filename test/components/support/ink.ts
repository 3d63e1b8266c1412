/** Driving ink-testing-library: keys go through the console's key router, each after the last one's render. */
import { setTimeout as sleep } from 'node:timers/promises';

export const keys = {
  up: '\u001B[A',
  down: '\u001B[B',
  enter: '\r',
  escape: '\u001B',
  tab: '\t',
  backspace: '\u007F',
  pageDown: '\u001B[6~',
} as const;

/** Writes each chunk and lets the router deliver it (one key per macrotask) and Ink draw the frame. */
export async function press(stdin: { write(data: string): void }, ...chunks: string[]): Promise<void> {
  for (const chunk of chunks) {
    stdin.write(chunk);
    await sleep(15 + 5 * chunk.length);
  }
}

export async function waitForFrame(lastFrame: () => string | undefined, test: (frame: string) => boolean, timeoutMs = 2000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const frame = lastFrame() ?? '';
    if (test(frame)) return frame;
    if (Date.now() > deadline) throw new Error(`frame never matched; last frame:\n${frame}`);
    await sleep(10);
  }
}

/** Waits for a condition outside the frame (a callback was called, a file was written). */
export async function waitUntil(what: string, test: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`${what} never happened`);
    await sleep(10);
  }
}
