/**
 * The processes a namespace lab runs (netns.ts starts them): any command, pxedeck's CLI with its JSON events,
 * and the UDP actor (test/support/udp-actor.ts) that sends and receives datagrams for a test. Each is tracked
 * by PID, its output kept, and stopped by signal with a deadline.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { PxedeckEvent } from '../../src/servers/events.js';
import type { UdpActorCommand, UdpActorOutput } from './udp-actor.js';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const udpActorCommand = [process.execPath, '--import', 'tsx', join(repoRoot, 'test', 'support', 'udp-actor.ts')] as const;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A long-running process inside a namespace; `ip netns exec` execs in place, so `pid` is the command's. */
export class NsProcess {
  readonly pid: number;
  private stdoutText = '';
  private stderrText = '';
  private exitValue: { code: number | null; signal: string | null } | undefined;
  readonly exited: Promise<{ code: number | null; signal: string | null }>;

  constructor(
    readonly label: string,
    readonly child: ChildProcess,
  ) {
    if (child.pid === undefined) throw new Error(`${label}: could not spawn`);
    this.pid = child.pid;
    child.stdout?.on('data', (chunk: Buffer) => this.onStdout(chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => (this.stderrText += chunk.toString('utf8')));
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitValue = { code, signal };
        resolve(this.exitValue);
      });
      child.once('error', (error) => {
        this.stderrText += `spawn error: ${error.message}\n`;
        this.exitValue = { code: null, signal: 'spawn-error' };
        resolve(this.exitValue);
      });
    });
  }

  private onStdout(text: string): void {
    // Bounded: a benchmark's server prints an event per packet.
    this.stdoutText = (this.stdoutText + text).slice(-1_000_000);
  }

  get stdout(): string {
    return this.stdoutText;
  }

  get stderr(): string {
    return this.stderrText;
  }

  get hasExited(): boolean {
    return this.exitValue !== undefined;
  }

  /** Polls until `test` holds; fails with the tail of the output when the process exits or time runs out. */
  async waitUntil(test: () => boolean, what: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!test()) {
      if (this.hasExited) throw new Error(`${this.label} exited (${JSON.stringify(this.exitValue)}) before ${what}:\n${this.tail()}`);
      if (Date.now() > deadline) throw new Error(`${this.label}: no ${what} within ${timeoutMs} ms:\n${this.tail()}`);
      await sleep(20);
    }
  }

  waitForOutput(pattern: RegExp, timeoutMs = 10_000): Promise<void> {
    return this.waitUntil(() => pattern.test(this.stdoutText) || pattern.test(this.stderrText), String(pattern), timeoutMs);
  }

  tail(chars = 3000): string {
    return `stdout: ${this.stdoutText.slice(-chars)}\nstderr: ${this.stderrText.slice(-chars)}`;
  }

  /** Sends `signal` by PID, then SIGKILL after `graceMs`; resolves once the process is gone. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 3000): Promise<{ code: number | null; signal: string | null }> {
    if (!this.hasExited) {
      try {
        process.kill(this.pid, signal);
      } catch {
        // Exited between the check and the signal.
      }
      const timedOut = await Promise.race([this.exited.then(() => false), sleep(graceMs).then(() => true)]);
      if (timedOut && !this.hasExited) {
        try {
          process.kill(this.pid, 'SIGKILL');
        } catch {
          // Gone already.
        }
      }
    }
    return this.exited;
  }

  /** The process's own exit, or a failure saying it printed its error and then hung (a handle left open). */
  async exitWithin(ms: number): Promise<{ code: number | null; signal: string | null }> {
    const outcome = await Promise.race([this.exited, sleep(ms).then(() => 'timeout' as const)]);
    if (outcome === 'timeout') {
      await this.stop('SIGKILL');
      throw new Error(`${this.label} did not exit within ${ms} ms:\n${this.tail()}`);
    }
    return outcome;
  }
}

/** pxedeck --headless: stdout is one JSON event a line, kept in order. */
export class PxedeckProcess extends NsProcess {
  readonly events: PxedeckEvent[] = [];
  readonly nonJsonLines: string[] = [];

  constructor(label: string, child: ChildProcess) {
    super(label, child);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.trim()) return;
      try {
        this.events.push(JSON.parse(line) as PxedeckEvent);
      } catch {
        this.nonJsonLines.push(line);
      }
    });
  }

  /** Resolves with the first event (already seen or yet to come) that satisfies `test`. */
  async waitForEvent<T extends PxedeckEvent = PxedeckEvent>(test: (event: PxedeckEvent) => boolean, what: string, timeoutMs = 10_000): Promise<T> {
    let found: PxedeckEvent | undefined;
    await this.waitUntil(() => (found = this.events.find(test)) !== undefined, what, timeoutMs);
    return found as T;
  }

  /**
   * Waits for the DHCP server's `server.listening` (and so the end of the full-mode probe), or on an IPv6-only
   * interface its `server.not-applicable`, said at the same point of the start.
   */
  listening(timeoutMs = 15_000): Promise<PxedeckEvent> {
    return this.waitForEvent((event) => (event.kind === 'server.listening' || event.kind === 'server.not-applicable') && event.source === 'dhcp4', 'server.listening', timeoutMs);
  }
}

export interface Datagram {
  readonly id: string;
  readonly bytes: Buffer;
  readonly from: string;
  readonly fromPort: number;
}

export type UdpActorReply = Extract<UdpActorOutput, { op: 'ok' | 'error' }>;
export type InterfaceChange = Extract<UdpActorOutput, { op: 'ifchange' }>;

/**
 * test/support/udp-actor.ts inside a namespace: UDP sockets the test opens, sends on and closes by command.
 * From a NetnsLab (lab.udpActor), or UdpActor.start for a test that builds its namespaces itself.
 */
export class UdpActor extends NsProcess {
  readonly datagrams: Datagram[] = [];
  readonly interfaceChanges: InterfaceChange[] = [];
  private readonly replies = new Map<number, UdpActorReply>();
  private seq = 0;
  ready = false;

  constructor(label: string, child: ChildProcess) {
    super(label, child);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const output = JSON.parse(line) as UdpActorOutput;
      if (output.op === 'ready') this.ready = true;
      else if (output.op === 'datagram') {
        this.datagrams.push({ id: output.id, bytes: Buffer.from(output.hex, 'hex'), from: output.from, fromPort: output.fromPort });
      } else if (output.op === 'ifchange') this.interfaceChanges.push(output);
      else this.replies.set(output.seq, output);
    });
  }

  /** Spawns the actor in `ns` (not tracked by any lab: the caller closes it) and waits until it takes commands. */
  static async start(ns: string, label: string): Promise<UdpActor> {
    const child = spawn('ip', ['netns', 'exec', ns, ...udpActorCommand], { stdio: ['pipe', 'pipe', 'pipe'], cwd: repoRoot });
    const actor = new UdpActor(label, child);
    await actor.untilReady();
    return actor;
  }

  untilReady(): Promise<void> {
    return this.waitUntil(() => this.ready, 'ready', 15_000);
  }

  /** Runs one command and resolves with its reply, success or failure. */
  async request(command: UdpActorCommand): Promise<UdpActorReply> {
    const seq = ++this.seq;
    this.child.stdin!.write(`${JSON.stringify({ ...command, seq })}\n`);
    await this.waitUntil(() => this.replies.has(seq), `a reply to ${command.op}`, 5000);
    return this.replies.get(seq)!;
  }

  /** Like request, but a failure is a test failure. Resolves with the bound port for `open`. */
  async must(command: UdpActorCommand): Promise<number | undefined> {
    const reply = await this.request(command);
    if (reply.op === 'error') throw new Error(`${this.label} ${command.op}: ${reply.message}`);
    return reply.port;
  }

  /** The first datagram (already received or yet to come) satisfying `test`, or undefined after `timeoutMs`. */
  async datagram(test: (datagram: Datagram) => boolean, timeoutMs = 3000): Promise<Datagram | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.datagrams.find(test);
      if (found || Date.now() > deadline) return found;
      await sleep(10);
    }
  }

  /** The payloads received on socket `id` (on any, without), as text. */
  texts(id?: string): string[] {
    return this.datagrams.filter((datagram) => id === undefined || datagram.id === id).map((datagram) => datagram.bytes.toString());
  }

  /** The datagram carrying `text` on socket `id`, already received or yet to come; not arriving is a test failure. */
  async waitForText(id: string, text: string, timeoutMs = 3000): Promise<Datagram> {
    const found = await this.datagram((datagram) => datagram.id === id && datagram.bytes.toString() === text, timeoutMs);
    if (found) return found;
    throw new Error(`${this.label}: no "${text}" on ${id} within ${timeoutMs} ms; ${this.tail()}`);
  }

  /** Waits for an interface change (after a `watch`) satisfying `test`, already reported or yet to come. */
  async interfaceChange(test: (change: InterfaceChange) => boolean, timeoutMs = 3000): Promise<InterfaceChange> {
    let found: InterfaceChange | undefined;
    await this.waitUntil(() => (found = this.interfaceChanges.find(test)) !== undefined, 'an interface change', timeoutMs);
    return found!;
  }

  /** Closes stdin (the actor exits by itself) and waits; killed by PID if it lingers. */
  async close(): Promise<void> {
    if (this.hasExited) return;
    this.child.stdin!.end();
    const timedOut = await Promise.race([this.exited.then(() => false), sleep(3000).then(() => true)]);
    if (timedOut) await this.stop('SIGKILL');
  }
}
