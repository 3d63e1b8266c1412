// Small promise wrappers around child_process so lab modules report the failing command and its stderr.
import { execFile, execFileSync } from 'node:child_process';

export type RunResult = { stdout: string; stderr: string };

export class CommandError extends Error {
  constructor(
    readonly command: readonly string[],
    readonly code: number | string | null,
    readonly stderr: string,
  ) {
    super(`${command.join(' ')} failed (${String(code)}): ${stderr.trim().slice(0, 2000)}`);
  }
}

export function run(cmd: string, args: readonly string[], opts: { cwd?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      { cwd: opts.cwd, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error) {
          const code = (error as NodeJS.ErrnoException & { code?: number | string }).code ?? null;
          reject(new CommandError([cmd, ...args], code, stderr || error.message));
        } else resolve({ stdout, stderr });
      },
    );
  });
}

// Synchronous variant for process 'exit' handlers, where no promise will ever settle.
export function runSyncQuiet(cmd: string, args: readonly string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
