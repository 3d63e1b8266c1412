/**
 * Proxy mode overhears the site server: a real dnsmasq hands out addresses on a bridged segment, busybox
 * udhcpc (-B, broadcast flag) asks for one, and pxedeck (the real CLI, --headless, proxy mode) reports the
 * site server's OFFER and ACK with dnsmasq's server id, the address and the boot file, for that MAC. The
 * laptop's own DHCP client can still bind UDP 68 on the same interface beside pxedeck, and gets the same
 * broadcasts; one that binds 68 without sharing first leaves pxedeck running with a clear warning.
 * About 10 s here.
 */
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decode } from '../../src/protocol/dhcp4/packet.js';
import type { ForeignDhcpReplyEvent, PxedeckEvent } from '../../src/servers/events.js';
import { NetnsLab, netnsUnavailableReason, type PxedeckProcess } from '../support/netns.js';

const skipReason = netnsUnavailableReason(['dnsmasq', 'udhcpc']);

const SERVER = '10.77.0.1';
const SITE = '10.77.0.2';
const CLIENT_MAC = '02:77:00:00:0f:01';

const isReply = (event: PxedeckEvent): event is ForeignDhcpReplyEvent => event.kind === 'dhcp.foreign-reply';

describe.skipIf(skipReason !== undefined)('proxy mode overhears the site DHCP server on UDP 68 (namespaces, dnsmasq, udhcpc)', () => {
  let lab: NetnsLab;
  let serverNs: string;
  let siteNs: string;
  let clientNs: string;
  let script: string;
  let bound: string;
  let pxedeck: PxedeckProcess | undefined;

  beforeAll(async () => {
    lab = new NetnsLab('O');
    try {
      // One segment: a bridge in a switch namespace, with pxedeck, the site server and the client on it.
      const switchNs = lab.namespace('sw');
      serverNs = lab.namespace('srv');
      siteNs = lab.namespace('site');
      clientNs = lab.namespace('cli');
      lab.ip(switchNs, 'link', 'add', 'br0', 'type', 'bridge', 'forward_delay', '0');
      lab.ip(switchNs, 'link', 'set', 'br0', 'up');
      for (const [port, end] of [
        ['p-srv', { ns: serverNs, name: 'srv0', address: `${SERVER}/24` }],
        ['p-site', { ns: siteNs, name: 'eth0', address: `${SITE}/24` }],
        ['p-cli', { ns: clientNs, name: 'cli0', mac: CLIENT_MAC }],
      ] as const) {
        lab.veth({ ns: switchNs, name: port }, end);
        lab.ip(switchNs, 'link', 'set', port, 'master', 'br0');
      }
      bound = join(lab.dir, 'bound');
      script = join(lab.dir, 'udhcpc.sh');
      writeFileSync(script, `#!/bin/sh\n[ "$1" = bound ] && echo "$ip" > ${bound}\nexit 0\n`);
      chmodSync(script, 0o755);
      // --no-ping: dnsmasq would otherwise wait 3 s before its first offer to a new client.
      await lab.dnsmasq(siteNs, 'eth0', ['--dhcp-range=10.77.0.50,10.77.0.59,255.255.255.0,1h', '--no-ping', `--dhcp-boot=site.kpxe,,${SITE}`], { label: 'site-dnsmasq' });
    } catch (error) {
      lab.destroySync();
      throw error;
    }
  }, 30_000);

  afterAll(async () => {
    await pxedeck?.stop();
    await lab?.destroy();
  });

  /** One udhcpc run with the broadcast flag; the address it bound. */
  async function udhcpc(): Promise<string | undefined> {
    rmSync(bound, { force: true });
    const result = await lab.exec(clientNs, 'udhcpc', ['-f', '-q', '-n', '-B', '-i', 'cli0', '-s', script, '-t', '3', '-T', '1'], { timeoutMs: 10_000 });
    return existsSync(bound) ? readFileSync(bound, 'utf8').trim() : (expect.fail(`udhcpc got no lease:\n${result.stdout}${result.stderr}`) as never);
  }

  it("reports the site server's OFFER and ACK (server id, address, boot file) for the client's MAC, while another socket shares UDP 68", async () => {
    // The laptop's own DHCP client, bound before pxedeck starts (pinned, SO_REUSEADDR, as dhclient and
    // systemd-networkd bind): pxedeck's bind must share with it, and a later one must share with pxedeck.
    const laptop = await lab.udpActor(serverNs, 'laptop-dhcp-client');
    expect(await laptop.must({ op: 'open', id: 'before', port: 68, device: 'srv0', reuseAddress: true })).toBe(68);
    pxedeck = lab.pxedeck(serverNs, ['--interface', 'srv0', '--mode', 'proxy', '--data-dir', join(lab.dir, 'data-1')]);
    await pxedeck.waitForEvent((event) => event.kind === 'server.listening' && event.server === 'dhcp-watch', 'the observer listening');
    expect(await laptop.must({ op: 'open', id: 'after', port: 68, device: 'srv0', reuseAddress: true })).toBe(68);

    const address = await udhcpc();
    expect(address).toMatch(/^10\.77\.0\.5\d$/);
    const offer = await pxedeck.waitForEvent<ForeignDhcpReplyEvent>((event) => isReply(event) && event.messageType === 'OFFER', 'the foreign OFFER');
    expect(offer).toMatchObject({ server: SITE, mac: CLIENT_MAC, offered: address, bootFile: 'site.kpxe', nextServer: SITE, interface: 'srv0', peer: `${SITE}:67` });
    expect(offer).not.toHaveProperty('ip');
    const ack = await pxedeck.waitForEvent<ForeignDhcpReplyEvent>((event) => isReply(event) && event.messageType === 'ACK', 'the foreign ACK');
    expect(ack).toMatchObject({ server: SITE, mac: CLIENT_MAC, offered: address, ip: address });

    // Both sockets on 68 got the broadcast: pxedeck's observer took nothing from the laptop's client.
    for (const id of ['before', 'after']) {
      const seen = await laptop.datagram((datagram) => datagram.id === id && datagram.from === SITE && decode(datagram.bytes).yiaddr === address);
      expect(seen, `the laptop-side socket "${id}" on 68 received the site's replies too`).toBeDefined();
    }
    await laptop.close();

    // pxedeck's own proxy machinery never answered this non-PXE client, and nothing of ours is "foreign".
    const replies = pxedeck.events.filter(isReply);
    expect(replies.every((event) => event.server === SITE)).toBe(true);
    expect(pxedeck.events.filter((event) => event.kind === 'dhcp.sent')).toEqual([]);
    expect((await pxedeck.stop()).code).toBe(0);
    pxedeck = undefined;
  }, 30_000);

  it('when a client already holds UDP 68 without sharing, pxedeck serves on and says offers are not visible', async () => {
    // A plain bind of 0.0.0.0:68 without SO_REUSEADDR (not through openDeviceUdpSocket: libuv's uv_udp_open
    // sets SO_REUSEADDR on a handed-over fd, so that socket would share after all).
    const holder = await lab.udpActor(serverNs, 'unshared-68');
    await holder.must({ op: 'open', id: 'c68', port: 68 });
    pxedeck = lab.pxedeck(serverNs, ['--interface', 'srv0', '--mode', 'proxy', '--data-dir', join(lab.dir, 'data-2')]);
    const warning = await pxedeck.waitForEvent((event) => event.kind === 'notice' && event.message.includes('not visible'), 'the warning');
    expect(warning).toMatchObject({ level: 'warning', message: expect.stringContaining(`pid ${holder.pid}`) });
    expect(pxedeck.events).toContainEqual(expect.objectContaining({ kind: 'server.error', server: 'dhcp-watch', message: 'port 68 held without sharing' }));
    expect(pxedeck.events).toContainEqual(expect.objectContaining({ kind: 'server.listening', server: 'dhcp4-proxy', address: `${SERVER}:67` }));
    expect(pxedeck.hasExited).toBe(false);
    await holder.close();
    expect((await pxedeck.stop()).code).toBe(0);
    pxedeck = undefined;
  }, 30_000);
});
