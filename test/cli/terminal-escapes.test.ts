/**
 * Escape sequences sent from the boot network never reach a terminal: a TFTP request for a file name and a
 * syslog line whose tag and host carry terminal controls (OSC retitle, screen clear, a C1 CSI, a bidi
 * override) go to the real servers over loopback and into an event log; `pxedeck report` (text and --json),
 * the headless JSON line and the console's wording all show them as visible escapes.
 */
import { createSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventSummary } from '../../components/model/event-text.js';
import { formatEventHuman, formatEventJson } from '../../src/cli/event-log.js';
import { runReport } from '../../src/cli/report.js';
import { parseMac } from '../../src/protocol/mac.js';
import type { PxedeckEvent } from '../../src/servers/events.js';
import { createSyslogServer } from '../../src/servers/syslog/server.js';
import { createTftpServer } from '../../src/servers/tftp/server.js';
import { openEventLog } from '../../src/state/event-log.js';
import { RawClient } from '../servers/tftp/raw-client.js';

const MAC = parseMac('52:54:00:e5:c0:01')!;
/** ESC ] 0 ; … BEL retitles the window, ESC [ 2 J clears the screen, 0x9B is a one-byte CSI (TFTP names are latin1). */
const HOSTILE_FILE = '\u001b]0;owned\u0007boot\u001b[2J\u009b31mexe.bin';
/** ESC c resets the terminal, U+009B 2 J clears it, U+202E shows what follows reversed. */
const HOSTILE_TAG = 'in\u001bc\u009b2J\u202estaller';
/** Anything a terminal acts on: C0 (but the line breaks of a multi-line report), DEL, C1, bidi and format controls. */
const ACTIVE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/u;

let dir: string;
const events: PxedeckEvent[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pxd-escapes-'));
  const root = join(dir, 'boot');
  mkdirSync(root);
  const log = openEventLog(dir);
  const emit = (event: PxedeckEvent) => {
    events.push(event);
    log.append(event);
  };
  const tftp = await createTftpServer({ bind: { address: '127.0.0.1', port: 0 }, root, emit, threads: 0, macForAddress: () => MAC });
  const syslog = await createSyslogServer({ bind: { address: '127.0.0.1', port: 0 }, emit, macForIp: () => MAC });
  const client = await RawClient.open();
  client.send(Buffer.concat([Buffer.from([0, 1]), Buffer.from(HOSTILE_FILE, 'latin1'), Buffer.from('\0octet\0')]), tftp.addresses[0]!);
  await client.next(2000);
  await client.close();
  const sender = createSocket('udp4');
  const line = Buffer.from(`<11>Jan  1 00:00:00 node1 ${HOSTILE_TAG}: disk \u001b[8mhidden\u001b[0m`, 'utf8');
  await new Promise<void>((resolve, reject) => sender.send(line, syslog.addresses[0]!.port, '127.0.0.1', (error) => (error ? reject(error) : resolve())));
  sender.close();
  const deadline = Date.now() + 3000;
  while (!events.some((event) => event.kind === 'syslog.line' || (event.kind === 'packet.malformed' && event.source === 'syslog')) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await tftp.close();
  await syslog.close();
  await log.close();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('terminal escapes from the boot network', () => {
  it('reach the event log as sent (the data stays true)', () => {
    expect(events.find((event) => event.kind === 'transfer.refused')).toMatchObject({ file: HOSTILE_FILE, mac: MAC });
    expect(events.find((event) => event.kind === 'syslog.line')).toMatchObject({ app: HOSTILE_TAG, mac: MAC });
  });

  it('never reach the terminal: pxedeck report shows them as visible escapes', async () => {
    const report = await runReport([MAC, '--data-dir', dir], '/x');
    expect(report.exitCode).toBe(0);
    expect(report.output).not.toMatch(ACTIVE);
    expect(report.output).toContain('\\x1b]0;owned\\x07boot\\x1b[2J\\x9b31mexe.bin refused: file name is not valid UTF-8');
    expect(report.output).toContain('in\\x1bc\\x9b2J\\u{202e}staller@node1 [err]: disk hidden');
    const json = await runReport([MAC, '--data-dir', dir, '--json'], '/x');
    expect(json.output).not.toMatch(ACTIVE);
    // The same data, only written with escapes.
    const read = (JSON.parse(json.output) as { events: PxedeckEvent[] }).events;
    expect(read.some((event) => event.kind === 'transfer.refused' && event.file === HOSTILE_FILE)).toBe(true);
    expect(read.some((event) => event.kind === 'syslog.line' && event.app === HOSTILE_TAG)).toBe(true);
  });

  it('never reach the terminal: the headless JSON line, a readable log line and the console say the same', () => {
    for (const event of events.filter((item) => item.mac === MAC)) {
      const line = formatEventJson(event);
      expect(line).not.toMatch(ACTIVE);
      expect(JSON.parse(line)).toEqual(event);
      expect(formatEventHuman(event)).not.toMatch(ACTIVE);
      expect(eventSummary(event)).not.toMatch(ACTIVE);
    }
  });
});
