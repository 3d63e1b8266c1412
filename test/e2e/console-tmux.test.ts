// The real console in a real terminal: pxedeck runs in tmux on loopback (unprivileged ports, a temp data
// dir) while a scripted client made of our own codecs boots: DHCP, a paced TFTP download of the boot
// program, iPXE's DHCP, the script, the "booted" beacon. The screen must show the machine appear, walk
// the stages with a moving progress bar, and take the profile assigned through the keyboard.
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decode as decodeTftp, encode as encodeTftp } from '../../src/protocol/tftp/packet.js';
import { buildRequest, openTestClient, type TestDhcpClient } from '../support/dhcp-client.js';
import { pxedeckCommand } from '../support/pxedeck-command.js';
import { TmuxConsole, tmuxUnavailableReason as skipReason } from '../support/tmux-console.js';

const repo = resolve(import.meta.dirname, '../..');

const MAC = '52:54:00:7e:57:01';
const NBP_SIZE = 1_200_000;

/**
 * A TFTP read that acknowledges each block after `pauseMs`, so the download lasts seconds and the
 * console's progress bar can be watched moving. Resolves with the bytes received.
 */
async function pacedTftpRead(port: number, file: string, pauseMs: number): Promise<number> {
  const socket: Socket = createSocket('udp4');
  await new Promise<void>((done) => socket.bind(0, '127.0.0.1', done));
  let received = 0;
  try {
    return await new Promise<number>((resolveRead, reject) => {
      const deadline = setTimeout(() => reject(new Error(`TFTP read of ${file} timed out after ${received} bytes`)), 60_000);
      let expected = 1;
      socket.on('message', (bytes, peer) => {
        const packet = decodeTftp(bytes);
        const ack = (block: number) => socket.send(encodeTftp({ type: 'ack', block }), peer.port, peer.address);
        if (packet.type === 'oack') return ack(0);
        if (packet.type === 'error') {
          clearTimeout(deadline);
          return reject(new Error(`TFTP error ${packet.code}: ${packet.message}`));
        }
        if (packet.type !== 'data' || packet.block !== (expected & 0xffff)) return undefined;
        received += packet.data.length;
        expected += 1;
        const last = packet.data.length < 1024;
        setTimeout(() => {
          ack(packet.block);
          if (last) {
            clearTimeout(deadline);
            resolveRead(received);
          }
        }, pauseMs);
        return undefined;
      });
      socket.send(
        encodeTftp({ type: 'rrq', filename: file, mode: 'octet', options: [{ name: 'blksize', value: '1024' }, { name: 'tsize', value: '0' }] }),
        port,
        '127.0.0.1',
      );
    });
  } finally {
    socket.close();
  }
}

describe.skipIf(skipReason !== undefined)(`the console in tmux${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let term: TmuxConsole;
  let client: TestDhcpClient;
  const rowOf = (text: string) => text.split('\n').find((line) => line.includes(MAC)) ?? '';
  const waitForScreen = (what: string, test: (text: string) => boolean, timeoutMs?: number) => term.waitForScreen(what, test, timeoutMs);
  const keys = (...list: string[]) => term.keys(...list);

  beforeAll(async () => {
    client = await openTestClient();
    term = await TmuxConsole.start({
      // With the node flags the installed command has (its `#!` line): the console as a technician runs it.
      pxedeck: pxedeckCommand().join(' '),
      clientPort: client.port,
      cwd: repo,
      bootFiles: { 'undionly.kpxe': randomBytes(NBP_SIZE) },
    });
  });

  afterAll(() => {
    term?.close();
    client?.close();
  });

  it('shows a machine appear, walk its stages with a moving bar, take the profile assigned by keyboard, and quits cleanly', async () => {
    await term.waitForServers();
    const ports = term.ports;

    // Firmware DHCP (BIOS PXE). Loopback has no neighbour table: ciaddr tells pxedeck which MAC 127.0.0.1 is.
    const discover = buildRequest({ type: 'DISCOVER', mac: MAC, profile: 'bios-pxe', ciaddr: '127.0.0.1' });
    await client.send(discover, ports.dhcp);
    const offer = await client.reply(discover.xid, 5000);
    expect(offer?.packet.file).toBe('undionly.kpxe');
    let text = await waitForScreen('the machine at DHCP', (screenText) => /QEMU\/KVM +127\.0\.0\.1 +BIOS +DHCP/.test(rowOf(screenText)));
    expect(rowOf(text)).toMatch(/\(menu default\) +waiting/);

    // The boot program over TFTP, paced: the bar must be seen moving.
    const download = pacedTftpRead(ports.tftp, 'undionly.kpxe', 4);
    const seen: number[] = [];
    while (seen.length === 0 || seen.at(-1)! < 100) {
      const match = /NBP +(█*)(░*) +(\d+)%/.exec(rowOf(term.screen()));
      if (match) {
        const percent = Number(match[3]);
        if (seen.at(-1) !== percent) seen.push(percent);
      }
      if (seen.length > 0 && seen.at(-1)! >= 100) break;
      await sleep(150);
      if (seen.length > 200) break;
    }
    expect(await download).toBe(NBP_SIZE);
    console.log(`progress readings: ${seen.join(" ")}`);
    // Several distinct readings, rising.
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen.some((percent) => percent > 0 && percent < 100)).toBe(true);

    // iPXE's own DHCP: stage iPXE, firmware iPXE.
    const ipxe = buildRequest({ type: 'DISCOVER', mac: MAC, profile: 'ipxe-bios', ciaddr: '127.0.0.1' });
    await client.send(ipxe, ports.dhcp);
    expect((await client.reply(ipxe.xid, 5000))?.packet).toBeDefined();
    await waitForScreen('the machine in iPXE', (screenText) => /iPXE +iPXE/.test(rowOf(screenText)));

    // The operator assigns memtest through the keyboard: picker, type to filter, Enter.
    await keys('a');
    await waitForScreen('the profile picker', (screenText) => screenText.includes('Assign a profile to 1 machine'));
    await keys('m', 'e', 'm', 't');
    await waitForScreen('the filtered picker', (screenText) => /› memtest/.test(screenText));
    await keys('Enter');
    text = await waitForScreen('the assignment in the table', (screenText) => /memtest +booting/.test(rowOf(screenText)));
    expect(text).toMatch(/1 machine → memtest/);
    const assignments = JSON.parse(readFileSync(join(term.dataDir, 'assignments.json'), 'utf8')) as Record<string, { target: unknown }>;
    expect(assignments[MAC]?.target).toEqual({ kind: 'profile', profile: 'memtest' });

    // The running server hands the machine that profile on its next request.
    const base = `http://127.0.0.1:${ports.http}`;
    let script = '';
    for (let attempt = 0; attempt < 20 && !/memtest/i.test(script); attempt += 1) {
      script = await (await fetch(`${base}/ipxe?mac=${encodeURIComponent(MAC)}`)).text();
      if (!/memtest/i.test(script)) await sleep(100);
    }
    expect(script).toMatch(/^#!ipxe/);
    expect(script).toMatch(/memtest/i);
    await waitForScreen('the script stage', (screenText) => /iPXE +script +.*memtest/.test(rowOf(screenText)));

    // The script's beacon: the kernel has it now. Memtest never reports, so the row says "handoff" with the time
    // since, rather than pretending it saw the machine booted.
    expect((await fetch(`${base}/booted?mac=${encodeURIComponent(MAC)}`)).status).toBeLessThan(400);
    await waitForScreen('the machine handed off', (screenText) => /handoff +[\d.]+s +.*memtest +done/.test(rowOf(screenText)));

    // Enter shows the detail: the stage path with times and the exact script.
    await keys('Enter');
    text = await waitForScreen('the detail view', (screenText) => screenText.includes(' timeline '));
    expect(text).toMatch(/path +DHCP [\d.]+s → NBP [\d.]+s → iPXE [\d.]+s → script [\d.]+s → handed off [\d.]+s ago/);
    await keys('Tab');
    await waitForScreen('the script tab', (screenText) => screenText.includes('#!ipxe') && /memtest/i.test(screenText));
    await keys('Escape', 'q');
    text = await waitForScreen('pxedeck exiting', (screenText) => /pxedeck exited \d+/.test(screenText));
    expect(text).toMatch(/pxedeck exited 0/);
    // The terminal is back: the alternate screen is gone, so the console's frame is not on it.
    expect(text).not.toMatch(/PROGRESS/);
  }, 90_000);
});
