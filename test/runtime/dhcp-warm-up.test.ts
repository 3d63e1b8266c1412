/**
 * The start-up warm-up runs real DHCP exchanges through a throwaway server on loopback: every one is answered
 * to its ACK, nothing is left on disk, and it ends by itself however the boot decision or the operator treats it.
 */
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import type { Mac } from '../../src/protocol/mac.js';
import { LeasePool } from '../../src/servers/dhcp4/lease-pool.js';
import { isForcedFullCollection, observeCollections } from '../support/gc-entries.js';
import { defaultWarmUpExchanges, warmUpDhcp4, startDhcpWarmUp, WARM_UP_EXCHANGES, type DhcpWarmUpOptions } from '../../src/runtime/dhcp-warm-up.js';

const targets = {
  scriptUrl: 'http://10.9.0.1/boot.ipxe',
  httpUrl: (file: string) => `http://10.9.0.1/${file}`,
  binaries: () => new Set(['undionly.kpxe', 'ipxe.efi', 'snponly.efi']),
};
const lease = { subnetMask: '255.255.255.0', broadcastAddress: '10.9.0.255', routers: ['10.9.0.254'], dnsServers: ['10.9.0.53'] };

/** What the real server's options hand the warm-up; what it must never use counts its calls. */
const touched = { sockets: 0, events: 0, clientState: 0 };
const realPool = new LeasePool({ first: '10.9.0.100', last: '10.9.0.200', subnet: '10.9.0.0/24', leaseSeconds: 3600 });

function server(mode: 'proxy' | 'full'): DhcpWarmUpOptions['server'] {
  return {
    mode,
    serverAddress: '10.9.0.1',
    interfaceName: 'bench0',
    targets,
    ...(mode === 'full' && { lease, pool: realPool }),
    logServers: ['10.9.0.1'],
    openSocket: () => {
      touched.sockets += 1;
      throw new Error('the warm-up opened a socket of the real server');
    },
    clientState: () => {
      touched.clientState += 1;
      return { policy: {}, history: {} };
    },
    emit: () => {
      touched.events += 1;
    },
  };
}

afterEach(() => {
  // Nothing of the real server's was used: its sockets, its sink, its client state, its pool.
  expect(touched).toEqual({ sockets: 0, events: 0, clientState: 0 });
  expect(realPool.leaseFor('02:00:00:00:00:01' as Mac)).toBeUndefined();
  expect(realPool.offer('02:00:00:00:00:02' as Mac)).toBe('10.9.0.100');
});

const defaultState: DhcpWarmUpOptions['clientStateIn'] = (registry) => (mac) => ({ policy: {}, history: registry.history(mac) });
const warmUpDirs = () => readdirSync(tmpdir()).filter((name) => name.startsWith('pxedeck-warm-up-'));

describe('DHCP warm-up over loopback', () => {
  it('full mode: every exchange gets its OFFER and, once the lease is on disk, its ACK; the journal is removed', async () => {
    const before = warmUpDirs();
    const result = await warmUpDhcp4({ server: server('full'), clientStateIn: defaultState, exchanges: 300 });
    expect(result).toMatchObject({ asked: 300, completed: 300, unanswered: 0 });
    expect(result.cutShort).toBeUndefined();
    expect(warmUpDirs()).toEqual(before);
  });

  it('proxy mode: BIOS, UEFI and iPXE clients get the proxy OFFER and the boot server ACK on its own port', async () => {
    const result = await warmUpDhcp4({ server: server('proxy'), clientStateIn: defaultState, exchanges: 300 });
    expect(result).toMatchObject({ asked: 300, completed: 300, unanswered: 0 });
  });

  it('ends by itself when nothing is answered (the operator ignores new machines)', async () => {
    const result = await warmUpDhcp4({ server: server('full'), clientStateIn: (registry) => (mac) => ({ policy: { ignore: true }, history: registry.history(mac) }), exchanges: 64 });
    expect(result).toMatchObject({ completed: 0, unanswered: 64 });
    expect(result.elapsedMs).toBeLessThan(3000);
  });

  it('a proxy warm-up without the boot binaries answers the iPXE clients and times out the rest', async () => {
    const bare = { ...server('proxy'), targets: { ...targets, binaries: () => new Set<string>() } };
    const result = await warmUpDhcp4({ server: bare, clientStateIn: defaultState, exchanges: 90 });
    expect(result.completed).toBe(30);
    expect(result.unanswered).toBe(60);
  });

  it('stops when pxedeck stops, and at its time limit', async () => {
    const controller = new AbortController();
    const running = warmUpDhcp4({ server: server('full'), clientStateIn: defaultState, exchanges: 1_000_000, signal: controller.signal });
    setTimeout(() => controller.abort(), 200);
    const stopped = await running;
    expect(stopped.cutShort).toBe('stopped');
    expect(stopped.completed).toBeGreaterThan(0);
    expect(stopped.completed).toBeLessThan(1_000_000);

    const limited = await warmUpDhcp4({ server: server('proxy'), clientStateIn: defaultState, exchanges: 1_000_000, timeLimitMs: 300 });
    expect(limited.cutShort).toBe('time limit');
    expect(limited.elapsedMs).toBeLessThan(2000);
  });

  it('tells the operator how it went, once, and nothing when it is turned off', async () => {
    const notices: Array<[string, string]> = [];
    const observing = observeCollections();
    const done = new Promise<void>((resolve) => {
      startDhcpWarmUp({
        server: server('full'),
        clientStateIn: defaultState,
        exchanges: 50,
        notice: (level, message) => {
          notices.push([level, message]);
          resolve();
        },
      });
    });
    await done;
    // Its garbage collected as it ends: a full collection asked for, not one V8 chose.
    expect((await observing.stop()).some(isForcedFullCollection)).toBe(true);
    expect(notices).toHaveLength(1);
    expect(notices[0]![0]).toBe('info');
    expect(notices[0]![1]).toMatch(/^DHCP warm-up: 50 exchanges over loopback in \d+ ms/);

    startDhcpWarmUp({ server: server('full'), clientStateIn: defaultState, exchanges: 0, notice: (level, message) => notices.push([level, message]) });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(notices).toHaveLength(1);
  });

  it('runs by default only where a burst of new machines can reach the server: full DHCP with the limit lifted or high', () => {
    const limit = (perSecond: number) => ({ perSecond, burst: 4 * perSecond });
    expect(defaultWarmUpExchanges({ mode: 'full', newClientLimit: null })).toBe(WARM_UP_EXCHANGES);
    expect(defaultWarmUpExchanges({ mode: 'full', newClientLimit: limit(1000) })).toBe(WARM_UP_EXCHANGES);
    expect(defaultWarmUpExchanges({ mode: 'full', newClientLimit: limit(50) })).toBe(0);
    expect(defaultWarmUpExchanges({ mode: 'full', newClientLimit: limit(999) })).toBe(0);
    // No limit given: the server's default (50 a second).
    expect(defaultWarmUpExchanges({ mode: 'full' })).toBe(0);
    expect(defaultWarmUpExchanges({ mode: 'proxy', newClientLimit: null })).toBe(0);
  });
});
