/** Shared by the HTTP server tests: a real server on loopback over a temp dir, raw requests, curl. */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PxedeckEvent } from '../../../src/servers/events.js';
import { createHttpServer, type HttpServer, type HttpServerOptions } from '../../../src/servers/http/server.js';

export interface RunningServer {
  readonly server: HttpServer;
  readonly base: string;
  readonly events: PxedeckEvent[];
  close(): Promise<void>;
}

export async function tempDir(label: string): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `pxd-http-${label}-`));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export async function startServer(options: Partial<HttpServerOptions> & Pick<HttpServerOptions, 'roots'>): Promise<RunningServer> {
  const events: PxedeckEvent[] = [];
  const server = await createHttpServer({
    bind: { address: '127.0.0.1', port: 0 },
    emit: (event) => events.push(event),
    renderIpxeScript: async () => ({ script: '#!ipxe\n' }),
    ...options,
  });
  const first = server.addresses[0]!;
  const host = first.address.includes(':') ? `[${first.address}]` : first.address;
  return { server, base: `http://${host}:${server.port}`, events, close: () => server.close() };
}

export interface RawResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

/** Sends `request` as bytes (no client-side normalisation of the path) and reads until the server closes. */
export function rawRequest(port: number, request: string | Buffer, host = '127.0.0.1'): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const chunks: Buffer[] = [];
    socket.setTimeout(5000, () => socket.destroy(new Error('raw request timed out')));
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const all = Buffer.concat(chunks);
      const split = all.indexOf('\r\n\r\n');
      const head = all.subarray(0, split === -1 ? all.length : split).toString('latin1').split('\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head[0] ?? '')?.[1] ?? 0);
      const headers: Record<string, string> = {};
      for (const line of head.slice(1)) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status, headers, body: split === -1 ? Buffer.alloc(0) : all.subarray(split + 4) });
    });
    // write, not end: Node's HTTP server drops a half-closed client whose answer is still pending.
    socket.write(request);
  });
}

export function rawGet(port: number, target: string, extraHeaders = ''): Promise<RawResponse> {
  return rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n${extraHeaders}\r\n`);
}

export interface CurlResult {
  readonly code: number;
  readonly stdout: Buffer;
  readonly stderr: string;
}

export function curl(args: readonly string[], timeoutMs = 60_000): Promise<CurlResult> {
  return new Promise((resolve) => {
    execFile('curl', ['--silent', '--show-error', ...args], { encoding: 'buffer', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr: stderr.toString() });
    });
  });
}

/** The event type whose `kind` union contains K (TransferEvent has several kinds, so Extract alone gives never). */
export type EventOf<K extends PxedeckEvent['kind'], E = PxedeckEvent> = E extends { kind: infer EK } ? (K extends EK ? E : never) : never;

export function ofKind<K extends PxedeckEvent['kind']>(events: readonly PxedeckEvent[], kind: K): Array<EventOf<K>> {
  return events.filter((event) => event.kind === kind) as Array<EventOf<K>>;
}

/** Events are emitted after the response (access log on the socket's close): give them a moment. */
export async function waitFor(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
