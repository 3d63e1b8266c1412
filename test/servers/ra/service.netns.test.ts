/**
 * The RA service on the lab segment (namespaces only, no VM): the service runs in the lab's server
 * namespace (ra-runner.ts), an observer box on the bridge watches with `tcpdump -v` — an independent
 * decoder — and its Linux kernel acts as the real receiver (SLAAC from our prefix, no default route through
 * us, router solicitations when its link comes up). dnsmasq plays the site router; fake-router.ts a router
 * that leaves with a final RA of lifetime 0; with a router lifetime of our own, the kernel's default route via
 * us comes and goes with our final RA. ~65 s.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PxedeckEvent } from '../../../src/servers/events.js';
import { repoRoot } from '../../e2e/lab/artifacts.js';
import { createLab, labUnavailableReason, type Lab, type LabHost, type LabProcess } from '../../e2e/lab/network.js';
import { startDnsmasq } from '../../e2e/lab/services.js';

function missingPrerequisite(): string | undefined {
  const reason = labUnavailableReason();
  if (reason) return reason;
  for (const tool of ['tcpdump', 'dnsmasq']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `needs ${tool} (not installed)`;
    }
  }
  return undefined;
}

const skipReason = missingPrerequisite();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One ICMPv6 packet as `tcpdump -n -v` prints it: the header line and its indented option lines. */
interface Dumped {
  readonly text: string;
  readonly time: number;
  readonly source: string;
  readonly destination: string;
}

class Watch {
  private buffer = '';
  private heard = '';
  readonly packets: Dumped[] = [];
  readonly process: LabProcess;

  private idle: NodeJS.Timeout | undefined;

  constructor(lab: Lab, host: LabHost) {
    this.process = lab.spawn(host.ns, 'tcpdump', ['-l', '-n', '-v', '-i', host.iface, 'icmp6'], {
      onOutput: (text) => {
        this.heard = (this.heard + text).slice(-200);
        this.buffer += text;
        const blocks = this.buffer.split(/\n(?=\d\d:\d\d:\d\d\.\d+ )/);
        this.buffer = blocks.pop() ?? '';
        for (const block of blocks) this.add(block);
        // The last packet's block ends only where the next one starts: once tcpdump has gone quiet it is whole.
        clearTimeout(this.idle);
        this.idle = setTimeout(() => {
          const last = this.buffer;
          this.buffer = '';
          if (last.trim()) this.add(last);
        }, 300);
      },
    });
  }

  private add(block: string): void {
    const match = /^(\d\d):(\d\d):(\d\d\.\d+) IP6 .*?\) (\S+) > (\S+): /s.exec(block);
    if (!match) return;
    // tcpdump's own capture time (ms into the day): delays measured on the wire, not through pipes.
    const time = (Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3])) * 1000;
    this.packets.push({ text: block, time, source: match[4]!, destination: match[5]! });
  }

  async ready(): Promise<void> {
    for (let i = 0; i < 100 && !this.heard.includes('listening on'); i += 1) await sleep(100);
  }

  adverts(): Dumped[] {
    return this.packets.filter((packet) => packet.text.includes('router advertisement'));
  }

  /** The first matching packet from index `from` on (`packets.length` before an action: only what followed it). */
  async waitFor(test: (packet: Dumped) => boolean, what: string, timeoutMs: number, from = 0): Promise<Dumped> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.packets.slice(from).find(test);
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms; saw:\n${this.packets.map((p) => p.text).join('\n')}`);
      await sleep(50);
    }
  }
}

class Runner {
  readonly events: PxedeckEvent[] = [];
  private pending = '';
  readonly process: LabProcess;
  readonly startedAt = Date.now();

  constructor(lab: Lab, options: Record<string, unknown>) {
    this.process = lab.spawn(lab.server.ns, process.execPath, ['--import', 'tsx', join(repoRoot, 'test/servers/ra/ra-runner.ts'), JSON.stringify(options)], {
      cwd: repoRoot,
      onOutput: (text) => {
        const lines = (this.pending + text).split('\n');
        this.pending = lines.pop() ?? '';
        for (const line of lines) if (line.startsWith('{"kind"')) this.events.push(JSON.parse(line) as PxedeckEvent);
      },
    });
  }

  async waitFor(kind: string, timeoutMs: number, test: (event: PxedeckEvent) => boolean = () => true): Promise<PxedeckEvent & { time: number }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.events.find((event) => event.kind === kind && test(event));
      if (hit) return hit;
      if (this.process.hasExited() || Date.now() > deadline) throw new Error(`no ${kind} within ${timeoutMs} ms; events: ${JSON.stringify(this.events)}`);
      await sleep(50);
    }
  }
}

function linkOf(host: { ns: string; iface: string }): { mac: string; linkLocal: string } {
  const [link] = JSON.parse(execFileSync('ip', ['-n', host.ns, '-j', 'addr', 'show', 'dev', host.iface], { encoding: 'utf8' })) as Array<{
    address: string;
    addr_info: Array<{ family: string; local: string; scope: string }>;
  }>;
  const linkLocal = link!.addr_info.find((info) => info.family === 'inet6' && info.scope === 'link')?.local ?? '';
  return { mac: link!.address, linkLocal };
}

function globalAddresses(host: LabHost): Array<{ local: string; dynamic: boolean }> {
  const [link] = JSON.parse(execFileSync('ip', ['-n', host.ns, '-j', '-6', 'addr', 'show', 'dev', host.iface], { encoding: 'utf8' })) as Array<{
    addr_info: Array<{ local: string; scope: string; dynamic?: boolean }>;
  }>;
  return link!.addr_info.filter((info) => info.scope === 'global').map((info) => ({ local: info.local, dynamic: info.dynamic === true }));
}

/** The link-local address is usable only after duplicate address detection (~1–2 s after the link comes up). */
async function waitForLinkLocal(host: { ns: string; iface: string }): Promise<string> {
  for (let i = 0; i < 100; i += 1) {
    const text = execFileSync('ip', ['-n', host.ns, '-6', 'addr', 'show', 'dev', host.iface, 'scope', 'link'], { encoding: 'utf8' });
    if (text.includes('fe80') && !text.includes('tentative')) return linkOf(host).linkLocal;
    await sleep(100);
  }
  throw new Error(`${host.iface} has no usable link-local address`);
}

describe.skipIf(skipReason !== undefined)('router advertisements on a lab segment (namespaces)', () => {
  let lab: Lab;
  /** Stopped after each test, passed or failed, so one test's advertiser never talks into the next. */
  const running: Array<{ stop(): Promise<void> }> = [];

  afterEach(async () => {
    await Promise.all(running.splice(0).map((process) => process.stop()));
  });

  beforeAll(async () => {
    lab = await createLab();
  });

  afterAll(async () => {
    await lab?.destroy();
  });

  it('advertises M/O, lifetime 0 and the /64 when no router answers; answers solicitations; yields to a router that appears', async () => {
    const observer = await lab.addHost({ ip4: '10.77.0.50', ip6: 'fd77::50', label: 'obs', acceptRa: true });
    const server = linkOf(lab.server);
    await waitForLinkLocal(lab.server);
    const watch = new Watch(lab, observer);
    running.push(watch.process);
    await watch.ready();
    const runner = new Runner(lab, {
      interfaceName: lab.server.iface,
      mac: server.mac,
      addresses: [
        { address: 'fd77::1', prefixLength: 64 },
        { address: server.linkLocal, prefixLength: 64 },
      ],
      listenMs: 1500,
      intervalMs: 60_000,
    });
    running.push(runner.process);

    // It asks first: a router solicitation from us, then a quiet listen before advertising.
    await watch.waitFor((p) => p.text.includes('router solicitation') && p.text.includes(server.mac), 'our router solicitation', 10_000);
    const started = await runner.waitFor('ra.started', 15_000);
    expect(started).toMatchObject({ managed: true, other: true, routerLifetime: 0, prefixes: ['fd77::/64'] });
    const listening = await runner.waitFor('server.listening', 0);
    expect(started.time - listening.time).toBeGreaterThanOrEqual(1500);

    const advert = await watch.waitFor((p) => p.text.includes('router advertisement') && p.destination === 'ff02::1', 'our RA to ff02::1', 5000);
    expect(advert.source).toBe(server.linkLocal);
    expect(advert.text).toContain('hlim 255');
    expect(advert.text).toContain('Flags [managed, other stateful]');
    expect(advert.text).toContain('router lifetime 0s');
    expect(advert.text).toMatch(/prefix info option \(3\), length 32 \(4\): fd77::\/64, Flags \[onlink, auto\]/);
    expect(advert.text).toContain(`source link-address option (1), length 8 (1): ${server.mac}`);
    // The link-local /64 is not advertised.
    expect(advert.text).not.toContain('fe80::/64');

    // The observer's kernel, a real receiver: a SLAAC address from our prefix, and no default route via us.
    let slaac: string | undefined;
    for (let i = 0; i < 50 && !slaac; i += 1) {
      slaac = globalAddresses(observer).find((address) => address.dynamic && address.local.startsWith('fd77::'))?.local;
      if (!slaac) await sleep(100);
    }
    expect(slaac).toBeDefined();
    expect(execFileSync('ip', ['-n', observer.ns, '-6', 'route', 'show', 'default'], { encoding: 'utf8' }).trim()).toBe('');

    // Its link comes up again: its kernel solicits, and we answer that host directly within the poll interval.
    const beforeFlap = watch.packets.length;
    execFileSync('ip', ['-n', observer.ns, 'link', 'set', observer.iface, 'down']);
    execFileSync('ip', ['-n', observer.ns, 'link', 'set', observer.iface, 'up']);
    const observerLinkLocal = await waitForLinkLocal(observer);
    const solicit = await watch.waitFor((p) => p.text.includes('router solicitation') && p.source === observerLinkLocal, 'the observer kernel RS', 10_000, beforeFlap);
    const answer = await watch.waitFor((p) => p.text.includes('router advertisement') && p.destination === observerLinkLocal, 'a unicast RA to the observer', 3000, beforeFlap);
    const answerDelay = answer.time - solicit.time;
    expect(answerDelay).toBeLessThan(1000);
    expect(answer.text).toContain('Flags [managed, other stateful]');
    await runner.waitFor('ra.sent', 2000, (event) => event.kind === 'ra.sent' && event.reason === `solicited by ${observerLinkLocal}`);
    console.log(`RA service: advertised ${started.time - runner.startedAt} ms after spawn; answered an RS in ${answerDelay} ms`);

    // A real router appears: we report it and stop advertising.
    const routerHost = await lab.addHost({ ip4: '10.77.0.251', ip6: 'fd77::251', label: 'rt1' });
    const router = linkOf(routerHost);
    await waitForLinkLocal(routerHost);
    const dnsmasq = await startDnsmasq(lab, routerHost, ['--enable-ra', `--dhcp-range=::,constructor:${routerHost.iface},ra-only`], 'ra-late');
    running.push(dnsmasq);
    const seen = await runner.waitFor('ra.router-seen', 20_000);
    expect(seen).toMatchObject({ router: router.linkLocal, prefixes: ['fd77::/64'] });
    const stopped = await runner.waitFor('ra.stopped', 1000);
    expect(stopped).toMatchObject({ reason: `router ${router.linkLocal} advertises on ${lab.server.iface}` });
    const quietFrom = watch.packets.length;
    await sleep(2500);
    expect(watch.packets.slice(quietFrom).filter((p) => p.text.includes('router advertisement') && p.text.includes(server.mac))).toEqual([]);
  });

  it('with a router lifetime (full DHCP on a bench): hosts take us as low-preference default router, and drop us on our final RA when we close', async () => {
    const observer = await lab.addHost({ ip4: '10.77.0.55', ip6: 'fd77::55', label: 'obs5', acceptRa: true });
    const server = linkOf(lab.server);
    await waitForLinkLocal(lab.server);
    await waitForLinkLocal(observer);
    const watch = new Watch(lab, observer);
    running.push(watch.process);
    await watch.ready();
    const runner = new Runner(lab, { interfaceName: lab.server.iface, mac: server.mac, addresses: [{ address: 'fd77::1', prefixLength: 64 }], listenMs: 1500, routerLifetime: 30 });
    running.push(runner.process);
    expect(await runner.waitFor('ra.started', 15_000)).toMatchObject({ routerLifetime: 30 });
    const advert = await watch.waitFor((p) => p.text.includes('router advertisement') && p.text.includes(server.mac), 'our RA', 5000);
    expect(advert.text).toContain('router lifetime 30s');
    expect(advert.text).toContain('pref low');
    // The observer's kernel, a real receiver, routes through us now.
    const defaultRoute = () => execFileSync('ip', ['-n', observer.ns, '-6', 'route', 'show', 'default'], { encoding: 'utf8' }).trim();
    let route = '';
    for (let i = 0; i < 50 && !route; i += 1) {
      route = defaultRoute();
      if (!route) await sleep(100);
    }
    expect(route).toContain(`via ${server.linkLocal} dev ${observer.iface}`);
    expect(route).toContain('pref low');

    // Closing: one final RA with lifetime 0, and the observer's kernel drops the route at once, not in 30 s.
    const from = watch.packets.length;
    const closedAt = Date.now();
    await runner.process.stop();
    expect(runner.events.find((event) => event.kind === 'ra.stopped')).toMatchObject({ reason: 'pxedeck is closing; sent a final RA with router lifetime 0' });
    const final = await watch.waitFor((p) => p.text.includes('router advertisement') && p.text.includes(server.mac), 'our final RA', 3000, from);
    expect(final.destination).toBe('ff02::1');
    expect(final.text).toContain('router lifetime 0s');
    expect(final.text).not.toContain('prefix info');
    for (let i = 0; i < 30 && defaultRoute(); i += 1) await sleep(100);
    expect(defaultRoute()).toBe('');
    const droppedMs = Date.now() - closedAt;
    console.log(`RA service with lifetime 30: the observer dropped its default route via us ${droppedMs} ms after we were told to close`);
  });

  it('stays quiet and reports the router when one already advertises', async () => {
    const observer = await lab.addHost({ ip4: '10.77.0.60', ip6: 'fd77::60', label: 'obs2', acceptRa: true });
    const routerHost = await lab.addHost({ ip4: '10.77.0.252', ip6: 'fd77::252', label: 'rt2' });
    const router = linkOf(routerHost);
    await waitForLinkLocal(routerHost);
    const server = linkOf(lab.server);
    const watch = new Watch(lab, observer);
    running.push(watch.process);
    await watch.ready();
    const dnsmasq = await startDnsmasq(lab, routerHost, ['--enable-ra', `--dhcp-range=::,constructor:${routerHost.iface},ra-only`], 'ra-site');
    running.push(dnsmasq);
    // Let dnsmasq's start-up RAs pass: what is tested is that our solicitation gets its answer.
    await sleep(4000);
    const runner = new Runner(lab, { interfaceName: lab.server.iface, mac: server.mac, addresses: [{ address: 'fd77::1', prefixLength: 64 }], listenMs: 3000, intervalMs: 2000 });
    running.push(runner.process);
    const seen = await runner.waitFor('ra.router-seen', 10_000);
    expect(seen).toMatchObject({ interface: lab.server.iface, router: router.linkLocal, managed: false, other: false, prefixes: ['fd77::/64'] });
    console.log(`RA service: saw router ${router.linkLocal} ${seen.time - runner.startedAt} ms after spawn`);
    await sleep(4500); // past the 3 s listen and two would-be 2 s intervals
    expect(runner.events.map((event) => event.kind)).not.toContain('ra.started');
    expect(watch.adverts().filter((p) => p.text.includes(server.mac))).toEqual([]);
    expect(watch.adverts().map((p) => p.source)).toContain(router.linkLocal);
    // Once per router and flag set, however often it advertises.
    expect(runner.events.filter((event) => event.kind === 'ra.router-seen')).toHaveLength(1);
  });

  it('takes over when the router leaves — its lifetime runs out, or it withdraws with lifetime 0 — and stops when one is back', async () => {
    const routerHost = await lab.addHost({ ip4: '10.77.0.253', ip6: 'fd77::253', label: 'rt3' });
    const router = linkOf(routerHost);
    await waitForLinkLocal(routerHost);
    const server = linkOf(lab.server);
    // Watched on our own interface: dnsmasq answers our solicitations by unicast, which no other port sees.
    const watch = new Watch(lab, lab.server);
    running.push(watch.process);
    await watch.ready();
    const fromRouter = (p: Dumped) => p.text.includes('router advertisement') && p.source === router.linkLocal;
    const fromUs = (p: Dumped) => p.text.includes('router advertisement') && p.text.includes(server.mac);
    // A router whose RAs (every ~4 s) promise it for 9 s only.
    const dnsmasq = await startDnsmasq(lab, routerHost, ['--enable-ra', `--dhcp-range=::,constructor:${routerHost.iface},ra-only`, `--ra-param=${routerHost.iface},4,9`], 'ra-short');
    running.push(dnsmasq);
    await watch.waitFor((p) => fromRouter(p) && p.text.includes('router lifetime 9s'), 'the router RA', 10_000);
    const runner = new Runner(lab, { interfaceName: lab.server.iface, mac: server.mac, addresses: [{ address: 'fd77::1', prefixLength: 64 }], listenMs: 1500, intervalMs: 2000 });
    running.push(runner.process);
    expect(await runner.waitFor('ra.router-seen', 10_000)).toMatchObject({ router: router.linkLocal, routerLifetime: 9 });
    // Longer than the router's lifetime: its RAs (unsolicited, or answering us when its lifetime runs out) renew it.
    await sleep(10_000);
    expect(runner.events.map((event) => event.kind)).not.toContain('ra.started');

    // dnsmasq exits without a final RA: we notice when its last RA's 9 s run out, ask, and take over.
    await dnsmasq.stop();
    const gone = await runner.waitFor('ra.router-gone', 15_000);
    const lastRouterAdvert = watch.adverts().filter(fromRouter).at(-1)!;
    const started = await runner.waitFor('ra.started', 5000);
    expect(gone).toMatchObject({ router: router.linkLocal });
    expect(started).toMatchObject({ managed: true, other: true, reason: `the router lifetime of router ${router.linkLocal} ran out; no router answered within 1500 ms` });
    const ours = await watch.waitFor((p) => fromUs(p) && p.destination === 'ff02::1', 'our RA after the router left', 5000);
    const asked = watch.packets.find((p) => p.text.includes('router solicitation') && p.text.includes(server.mac) && p.time > lastRouterAdvert.time)!;
    expect(asked).toBeDefined();
    const takeoverMs = ours.time - lastRouterAdvert.time;
    // 9 s of lifetime, then 1.5 s of asking; within two 100 ms polls and scheduling.
    expect(asked.time - lastRouterAdvert.time).toBeGreaterThanOrEqual(9000);
    expect(asked.time - lastRouterAdvert.time).toBeLessThan(9500);
    expect(takeoverMs).toBeGreaterThanOrEqual(10_500);
    expect(takeoverMs).toBeLessThan(11_500);
    expect(ours.text).toContain('Flags [managed, other stateful]');
    expect(ours.text).toContain('router lifetime 0s');

    // A router with a lifetime appears: we stop, and send nothing more.
    const fake = lab.spawn(routerHost.ns, process.execPath, ['--import', 'tsx', join(repoRoot, 'test/servers/ra/fake-router.ts'), JSON.stringify({ interfaceName: routerHost.iface, mac: router.mac, routerLifetime: 1800, intervalMs: 3000, prefix: 'fd77::' })], { cwd: repoRoot });
    running.push(fake);
    const stopped = await runner.waitFor('ra.stopped', 15_000);
    expect(stopped).toMatchObject({ reason: `router ${router.linkLocal} advertises on ${lab.server.iface}` });
    // An RA of ours sent in the poll interval before we heard the router may still be on its way through tcpdump.
    await sleep(500);
    const quietFrom = watch.packets.length;
    await sleep(3000);
    expect(watch.packets.slice(quietFrom).filter(fromUs)).toEqual([]);
    expect(runner.events.filter((event) => event.time > stopped.time).map((event) => event.kind)).toEqual([]);

    // It leaves with a final RA of lifetime 0: gone at once, and we take over after one listen.
    await fake.stop();
    const final = await watch.waitFor((p) => fromRouter(p) && p.text.includes('router lifetime 0s'), 'the final RA', 5000, quietFrom);
    const withdrawn = await runner.waitFor('ra.router-gone', 5000, (event) => event.time > stopped.time);
    expect(withdrawn).toMatchObject({ router: router.linkLocal, reason: 'it advertised router lifetime 0' });
    const resumed = await runner.waitFor('ra.started', 5000, (event) => event.time > stopped.time);
    expect(resumed).toMatchObject({ reason: `router ${router.linkLocal} withdrew (router lifetime 0); no router answered within 1500 ms` });
    const oursAgain = await watch.waitFor(fromUs, 'our RA after the final RA', 5000, quietFrom);
    const resumeMs = oursAgain.time - final.time;
    expect(resumeMs).toBeGreaterThanOrEqual(1500);
    expect(resumeMs).toBeLessThan(2500);
    console.log(`RA service: took over ${takeoverMs} ms after the last RA of a 9 s router, ${resumeMs} ms after a final RA`);
  });
});
