/**
 * The laptop of NETWORKING.md, in namespaces: "laptop" has a bench port (bench0, 10.77.1.1/24) and a
 * Wi-Fi port (wifi0, 10.77.2.2/24, holding the default route via 10.77.2.1); the peer of each veth sits in
 * its own namespace ("bench" and "wifi"), where a UDP listener plays the client or the office network.
 * Everything is created here and deleted afterwards; nothing touches this machine's own interfaces.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UdpActor } from '../../support/netns.js';

function missingPrerequisite(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to create network namespaces';
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
  } catch {
    return 'needs iproute2 (`ip`)';
  }
  return undefined;
}

const skipReason = missingPrerequisite();
const suffix = `${process.pid.toString(36)}${randomBytes(2).toString('hex')}`;
const ns = { laptop: `pxdL${suffix}`, bench: `pxdB${suffix}`, wifi: `pxdW${suffix}` } as const;

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Interface names live inside the namespaces, so fixed names cannot collide with another run. */
function addBenchLink(): void {
  ip('-n', ns.laptop, 'link', 'add', 'bench0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.bench);
  ip('-n', ns.laptop, 'addr', 'add', '10.77.1.1/24', 'dev', 'bench0');
  ip('-n', ns.laptop, 'addr', 'add', 'fd77:1::1/64', 'dev', 'bench0', 'nodad');
  ip('-n', ns.laptop, 'link', 'set', 'bench0', 'up');
  ip('-n', ns.bench, 'addr', 'add', '10.77.1.2/24', 'dev', 'eth0');
  ip('-n', ns.bench, 'addr', 'add', 'fd77:1::2/64', 'dev', 'eth0', 'nodad');
  ip('-n', ns.bench, 'link', 'set', 'eth0', 'up');
  // Without any route a peer cannot send to 255.255.255.255 (ENETUNREACH).
  ip('-n', ns.bench, 'route', 'add', 'default', 'dev', 'eth0');
}

function createLab(): void {
  for (const name of Object.values(ns)) {
    ip('netns', 'add', name);
    ip('-n', name, 'link', 'set', 'lo', 'up');
  }
  addBenchLink();
  ip('-n', ns.laptop, 'link', 'add', 'wifi0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.wifi);
  ip('-n', ns.laptop, 'addr', 'add', '10.77.2.2/24', 'dev', 'wifi0');
  ip('-n', ns.laptop, 'addr', 'add', 'fd77:2::2/64', 'dev', 'wifi0', 'nodad');
  ip('-n', ns.laptop, 'link', 'set', 'wifi0', 'up');
  ip('-n', ns.wifi, 'addr', 'add', '10.77.2.1/24', 'dev', 'eth0');
  ip('-n', ns.wifi, 'addr', 'add', 'fd77:2::1/64', 'dev', 'eth0', 'nodad');
  ip('-n', ns.wifi, 'link', 'set', 'eth0', 'up');
  ip('-n', ns.laptop, 'route', 'add', 'default', 'via', '10.77.2.1', 'dev', 'wifi0');
  ip('-n', ns.wifi, 'route', 'add', 'default', 'dev', 'eth0');
  ip('-n', ns.wifi, 'route', 'add', 'default', 'via', 'fd77:2::2', 'dev', 'eth0');
}

function deleteLab(): void {
  for (const name of Object.values(ns)) {
    try {
      ip('netns', 'del', name);
    } catch {
      // Not created (setup failed early) or already gone.
    }
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** How long "nothing arrived" is watched for after the packet has provably reached the namespace. */
const SETTLE_MS = 250;

describe.skipIf(skipReason !== undefined)('device-pinned sockets on a two-interface laptop (namespaces)', () => {
  const actors: UdpActor[] = [];
  /** Deleting a namespace does not end the processes inside it: every one we start is ended by pid. */
  const daemons: ChildProcess[] = [];
  let laptop: UdpActor;
  let laptopPid: number;
  let bench: UdpActor;
  let wifi: UdpActor;

  beforeAll(async () => {
    try {
      createLab();
      const started = await Promise.allSettled([
        UdpActor.start(ns.laptop, 'laptop'),
        UdpActor.start(ns.bench, 'bench peer'),
        UdpActor.start(ns.wifi, 'wifi peer'),
      ]);
      for (const entry of started) if (entry.status === 'fulfilled') actors.push(entry.value);
      for (const entry of started) if (entry.status === 'rejected') throw entry.reason;
      [laptop, bench, wifi] = actors as [UdpActor, UdpActor, UdpActor];
      // `ip netns exec` execs in place: the spawned pid is the actor's, the one holding its sockets.
      laptopPid = laptop.pid;
      // The firmware side: clients listen on 68 and send from it.
      await bench.must({ op: 'open', id: 'client', port: 68 });
      await wifi.must({ op: 'open', id: 'client', port: 68 });
      await laptop.must({ op: 'open', id: 'bench', device: 'bench0', port: 67 });
    } catch (error) {
      await Promise.all(actors.map((actor) => actor.close()));
      deleteLab();
      throw error;
    }
  });

  afterAll(async () => {
    try {
      for (const daemon of daemons) if (daemon.exitCode === null && daemon.signalCode === null) daemon.kill();
      await Promise.all(actors.map((actor) => actor.close()));
    } finally {
      deleteLab();
    }
  });

  it('a broadcast from the bench-pinned socket reaches the bench and not the Wi-Fi side', async () => {
    await laptop.must({ op: 'send', id: 'bench', address: '255.255.255.255', port: 68, text: 'offer via bench' });
    const received = await bench.waitForText('client', 'offer via bench');
    expect(received).toMatchObject({ from: '10.77.1.1', fromPort: 67 });

    // Control: the same broadcast from an unpinned socket leaves by the default route (Wi-Fi). This is the
    // failure pinning prevents, and it proves the Wi-Fi listener would have seen a leak.
    await laptop.must({ op: 'open', id: 'unpinned', port: 0 });
    await laptop.must({ op: 'send', id: 'unpinned', address: '255.255.255.255', port: 68, text: 'offer unpinned' });
    await wifi.waitForText('client', 'offer unpinned');
    await laptop.must({ op: 'close', id: 'unpinned' });
    await sleep(SETTLE_MS);

    expect(wifi.texts()).not.toContain('offer via bench');
    expect(bench.texts()).not.toContain('offer unpinned');
  });

  it('the bench-pinned socket hears broadcasts from the bench only, and a Wi-Fi-pinned one shares :67', async () => {
    // A second pinned socket on the same port, for the other interface: how several interfaces are served,
    // and the proof that the Wi-Fi broadcast did reach the laptop.
    await laptop.must({ op: 'open', id: 'wifi', device: 'wifi0', port: 67 });
    await wifi.must({ op: 'send', id: 'client', address: '255.255.255.255', port: 67, text: 'discover from wifi' });
    await laptop.waitForText('wifi', 'discover from wifi');
    await bench.must({ op: 'send', id: 'client', address: '255.255.255.255', port: 67, text: 'discover from bench' });
    await laptop.waitForText('bench', 'discover from bench');
    await sleep(SETTLE_MS);

    expect(laptop.texts('bench')).toEqual(['discover from bench']);
    expect(laptop.texts('wifi')).toEqual(['discover from wifi']);
    await laptop.must({ op: 'close', id: 'wifi' });
  });

  it('a second bind on :67 fails with EADDRINUSE naming our process; non-root and unknown devices fail clearly', async () => {
    const intruder = await UdpActor.start(ns.laptop, 'intruder');
    actors.push(intruder);

    const plain = await intruder.request({ op: 'open', id: 'plain', port: 67 });
    expect(plain).toMatchObject({ op: 'error', code: 'EADDRINUSE', holderPids: [laptopPid] });
    expect(plain.op === 'error' && plain.message).toContain(`pid ${laptopPid}`);
    expect(plain.op === 'error' && plain.message).toContain('Stop dnsmasq / NetworkManager shared mode');

    const pinned = await intruder.request({ op: 'open', id: 'pinned', device: 'bench0', port: 67 });
    expect(pinned).toMatchObject({ op: 'error', code: 'EADDRINUSE', holderPids: [laptopPid] });

    const missing = await intruder.request({ op: 'open', id: 'missing', device: 'nope0', port: 67 });
    expect(missing).toMatchObject({ op: 'error', code: 'ENODEV' });
    expect(missing.op === 'error' && missing.message).toMatch(/no network interface named "nope0".*bench0.*wifi0/);

    await intruder.must({ op: 'setuid', uid: 65534 });
    const unprivileged = await intruder.request({ op: 'open', id: 'tftp', device: 'bench0', port: 69 });
    expect(unprivileged).toMatchObject({ op: 'error', code: 'EACCES' });
    expect(unprivileged.op === 'error' && unprivileged.message).toContain('CAP_NET_BIND_SERVICE');
    await intruder.close();
  });

  it('IPv6: a V6ONLY pinned socket shares :67 with the IPv4 one and hears only its interface', async () => {
    // Without IPV6_V6ONLY this bind would collide with the IPv4 socket on bench0:67.
    await laptop.must({ op: 'open', id: 'bench6', device: 'bench0', port: 67, family: 6 });
    await laptop.must({ op: 'open', id: 'wifi6', device: 'wifi0', port: 67, family: 6 });
    await bench.must({ op: 'open', id: 'client6', port: 0, family: 6 });
    await wifi.must({ op: 'open', id: 'client6', port: 0, family: 6 });
    // Both aim at the bench address; the Wi-Fi packet reaches the laptop through wifi0.
    await wifi.must({ op: 'send', id: 'client6', address: 'fd77:1::1', port: 67, text: 'v6 from wifi' });
    await laptop.waitForText('wifi6', 'v6 from wifi');
    await bench.must({ op: 'send', id: 'client6', address: 'fd77:1::1', port: 67, text: 'v6 from bench' });
    await laptop.waitForText('bench6', 'v6 from bench');
    await sleep(SETTLE_MS);
    expect(laptop.texts('bench6')).toEqual(['v6 from bench']);
    await laptop.must({ op: 'close', id: 'bench6' });
    await laptop.must({ op: 'close', id: 'wifi6' });
  });

  it('a re-created interface needs a new socket (the watcher says so); down/up keeps the old one working', async () => {
    await laptop.must({ op: 'watch', name: 'bench0', intervalMs: 100 });

    ip('-n', ns.laptop, 'link', 'set', 'bench0', 'down');
    await laptop.interfaceChange((change) => change.present && !change.needsNewSocket);
    ip('-n', ns.laptop, 'link', 'set', 'bench0', 'up');
    await sleep(300);
    await bench.must({ op: 'send', id: 'client', address: '255.255.255.255', port: 67, text: 'after down/up' });
    await laptop.waitForText('bench', 'after down/up');

    // Unplugging a USB adapter deletes the interface; plugging it back creates one with a new index.
    ip('-n', ns.laptop, 'link', 'del', 'bench0');
    await laptop.interfaceChange((change) => !change.present);
    addBenchLink();
    await laptop.interfaceChange((change) => change.present && change.needsNewSocket);

    // The old socket still holds the stale index, yet a new one binds beside it and is the one that hears.
    await laptop.must({ op: 'open', id: 'bench-new', device: 'bench0', port: 67 });
    await bench.must({ op: 'send', id: 'client', address: '255.255.255.255', port: 67, text: 'after replug' });
    await laptop.waitForText('bench-new', 'after replug');
    await sleep(SETTLE_MS);
    expect(laptop.texts('bench')).not.toContain('after replug');
  });
  it('names dnsmasq when it already serves DHCP on the interface', async (context) => {
    try {
      execFileSync('dnsmasq', ['--version'], { stdio: 'ignore' });
    } catch {
      context.skip('needs dnsmasq (Debian dnsmasq-base)');
    }
    await laptop.must({ op: 'close', id: 'bench' });
    await laptop.must({ op: 'close', id: 'bench-new' });
    // Only inside the lab namespace, on the bench veth; no client there asks it for anything.
    const dnsmasq = spawn(
      'ip',
      ['netns', 'exec', ns.laptop, 'dnsmasq', '--keep-in-foreground', '--conf-file=/dev/null', '--port=0',
        '--interface=bench0', '--dhcp-range=10.77.1.100,10.77.1.150,1h', '--leasefile-ro', '--pid-file=',
        '--no-resolv', '--no-hosts', '--log-facility=-'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    daemons.push(dnsmasq);
    let stderr = '';
    dnsmasq.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      // dnsmasq logs "DHCP, IP range …" once its sockets are bound.
      for (let waited = 0; !/DHCP, IP range/.test(stderr); waited += 50) {
        if (waited > 5000 || dnsmasq.exitCode !== null) throw new Error(`dnsmasq did not start: ${stderr}`);
        await sleep(50);
      }
      const reply = await laptop.request({ op: 'open', id: 'bench-again', device: 'bench0', port: 67 });
      expect(reply).toMatchObject({ op: 'error', code: 'EADDRINUSE', holderPids: [dnsmasq.pid] });
      expect(reply.op === 'error' && reply.message).toMatch(
        new RegExp(`in use by dnsmasq \\(pid ${dnsmasq.pid}: dnsmasq --keep-in-foreground .*\\) on 0\\.0\\.0\\.0:67\\. Stop dnsmasq`),
      );
    } finally {
      dnsmasq.kill();
    }
  });
});

if (skipReason) {
  describe('device-pinned sockets on a two-interface laptop (namespaces)', () => {
    it.skip(`skipped: ${skipReason}`, () => {});
  });
}
