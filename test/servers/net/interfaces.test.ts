import { describe, expect, it } from 'vitest';
import {
  chooseFrom,
  describeInterface,
  interfaceForAddress,
  InterfaceChoiceError,
  ipv4Subnet,
  listInterfaces,
  parseDefaultRoute6Interfaces,
  parseDefaultRouteInterfaces,
  subnetContains,
  type NetInterface,
} from '../../../src/servers/net/interfaces.js';
import { compareInterfaceStates, followUrlAddress6, usableIpv6Addresses, type InterfaceState } from '../../../src/servers/net/interface-watch.js';
import type { Mac } from '../../../src/protocol/mac.js';

function iface(name: string, overrides: Partial<NetInterface> = {}): NetInterface {
  return {
    name,
    index: 2,
    mac: '52:54:00:12:34:56' as Mac,
    up: true,
    operstate: 'up',
    loopback: false,
    wireless: false,
    defaultRoute: false,
    ipv4: [],
    ipv6: [],
    ...overrides,
  };
}

const lo = iface('lo', { loopback: true, operstate: 'unknown', ipv4: [ipv4Subnet('127.0.0.1', 8)] });
const bench = iface('enp3s0', { ipv4: [ipv4Subnet('10.77.1.1', 24)] });
const wifi = iface('wlp2s0', { wireless: true, defaultRoute: true, ipv4: [ipv4Subnet('192.168.1.23', 24)] });
const docker = iface('docker0', { operstate: 'down', ipv4: [ipv4Subnet('172.17.0.1', 16)] });
const unaddressed = iface('enx001122334455', { ipv4: [] });
const down = iface('eth1', { up: false, operstate: 'down', ipv4: [ipv4Subnet('10.9.9.9', 24)] });

function choiceError(fn: () => unknown): InterfaceChoiceError {
  try {
    fn();
  } catch (error) {
    if (error instanceof InterfaceChoiceError) return error;
    throw error;
  }
  throw new Error('expected an InterfaceChoiceError');
}

describe('address maths', () => {
  it('derives netmask, network and broadcast', () => {
    expect(ipv4Subnet('10.77.1.1', 24)).toEqual({
      address: '10.77.1.1',
      prefixLength: 24,
      netmask: '255.255.255.0',
      network: '10.77.1.0',
      broadcast: '10.77.1.255',
    });
    expect(ipv4Subnet('172.16.5.4', 20)).toMatchObject({ netmask: '255.255.240.0', network: '172.16.0.0', broadcast: '172.16.15.255' });
    expect(ipv4Subnet('10.0.0.1', 32)).toMatchObject({ network: '10.0.0.1', broadcast: '10.0.0.1' });
    expect(() => ipv4Subnet('10.0.0.256', 24)).toThrow(RangeError);
    expect(() => ipv4Subnet('10.0.0.1', 33)).toThrow(RangeError);
  });

  it('tells whether an address is on the subnet, and which interface holds it', () => {
    const subnet = ipv4Subnet('172.16.5.4', 20);
    expect(subnetContains(subnet, '172.16.15.254')).toBe(true);
    expect(subnetContains(subnet, '172.16.16.1')).toBe(false);
    expect(subnetContains(subnet, 'fe80::1')).toBe(false);
    const wide = iface('br0', { ipv4: [ipv4Subnet('10.77.0.1', 16)] });
    expect(interfaceForAddress([wide, bench, wifi], '10.77.1.50')?.iface.name).toBe('enp3s0');
    expect(interfaceForAddress([wide, bench, wifi], '10.77.9.50')?.iface.name).toBe('br0');
    expect(interfaceForAddress([wide, bench, wifi], '8.8.8.8')).toBeUndefined();
  });
});

describe('parseDefaultRouteInterfaces', () => {
  it('finds the interfaces with an up default route in /proc/net/route', () => {
    const text = [
      'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
      'wlp2s0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0',
      'wlp2s0\t0001A8C0\t00000000\t0001\t0\t0\t600\t00FFFFFF\t0\t0\t0',
      'enp3s0\t00014D0A\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0',
      // A default route that is not up does not count.
      'tun0\t00000000\t00000000\t0000\t0\t0\t50\t00000000\t0\t0\t0',
      '',
    ].join('\n');
    expect([...parseDefaultRouteInterfaces(text)]).toEqual(['wlp2s0']);
  });
});

describe('parseDefaultRoute6Interfaces', () => {
  it('finds the interfaces with an up ::/0 route in /proc/net/ipv6_route, not loopback\'s unreachable one', () => {
    const zero = '0'.repeat(32);
    const text = [
      // A default route learnt from an RA (flags RTF_UP | RTF_GATEWAY | RTF_ADDRCONF | RTF_DEFAULT).
      `${zero} 00 ${zero} 00 fe80000000000000021122fffe334455 00000400 00000002 00000000 00450003     wlp2s0`,
      `fd770000000000000000000000000000 40 ${zero} 00 ${zero} 00000100 00000001 00000000 00000001   enp3s0`,
      // The kernel's "unreachable" default on lo (RTF_REJECT) is no uplink.
      `${zero} 00 ${zero} 00 ${zero} ffffffff 00000001 00000000 00200200       lo`,
      `${zero} 00 ${zero} 00 ${zero} ffffffff 00000001 00000000 00200200   tun0`,
      '',
    ].join('\n');
    expect([...parseDefaultRoute6Interfaces(text)]).toEqual(['wlp2s0']);
  });
});

describe('chooseFrom', () => {
  it('says "no link" rather than "no address" for a port without carrier', () => {
    const unplugged = iface('enp0s31f6', { operstate: 'down', ipv4: [] });
    expect(choiceError(() => chooseFrom([lo, unplugged], 'enp0s31f6')).message).toMatch(/has no link \(no cable, or the switch port is off\)/);
  });

  it('never guesses the uplink: an only candidate holding the default route must be named', () => {
    const error = choiceError(() => chooseFrom([lo, wifi, unaddressed]));
    expect(error.problem).toBe('uplink');
    expect(error.message).toMatch(/wlp2s0, holds the default route.*--interface wlp2s0/s);
    expect(chooseFrom([lo, wifi], 'wlp2s0').name).toBe('wlp2s0');
  });

  it('takes the only candidate when none is requested', () => {
    expect(chooseFrom([lo, bench, unaddressed, down]).name).toBe('enp3s0');
  });

  it('asks for --interface when several could serve, naming them and the uplink', () => {
    const error = choiceError(() => chooseFrom([lo, bench, wifi, docker]));
    expect(error.problem).toBe('ambiguous');
    expect(error.candidates.map((entry) => entry.name)).toEqual(['enp3s0', 'wlp2s0', 'docker0']);
    expect(error.message).toContain('--interface NAME');
    expect(error.message).toContain('enp3s0 10.77.1.1/24');
    expect(error.message).toContain('wlp2s0 192.168.1.23/24 (wireless, default route');
    expect(error.message).toContain('docker0 172.17.0.1/16 (no cable/link');
    expect(error.message).toContain('wlp2s0 holds the default route');
  });

  it('explains why nothing can serve', () => {
    const error = choiceError(() => chooseFrom([lo, unaddressed, down]));
    expect(error.problem).toBe('none');
    expect(error.message).toContain('enx001122334455: it has no IPv4 address and no global or ULA IPv6 address');
    expect(error.message).toContain('eth1: it is down (bring it up: ip link set eth1 up)');
    expect(error.message).not.toContain('lo:');
    expect(choiceError(() => chooseFrom([lo])).message).toContain('no network interface besides loopback');
  });

  it('an IPv6-only bench port (a ULA or global address, no IPv4) can serve; a link-local address alone cannot', () => {
    const v6only = iface('enp5s0', { ipv4: [], ipv6: [{ address: 'fe80::1', prefixLength: 64 }, { address: 'fd77::1', prefixLength: 64 }] });
    expect(chooseFrom([lo, v6only]).name).toBe('enp5s0');
    expect(chooseFrom([lo, v6only, unaddressed], 'enp5s0').name).toBe('enp5s0');
    const linkLocal = iface('enp6s0', { ipv4: [], ipv6: [{ address: 'fe80::2', prefixLength: 64 }] });
    expect(choiceError(() => chooseFrom([lo, linkLocal], 'enp6s0')).message).toMatch(
      /Cannot serve on enp6s0: it has no IPv4 address and no global or ULA IPv6 address \(give it one, e\.g\. ip addr add 192\.168\.77\.1\/24 dev enp6s0, or for an IPv6-only bench ip addr add fd77::1\/64 dev enp6s0\)/,
    );
    expect(choiceError(() => chooseFrom([lo, bench, v6only])).message).toContain('enp5s0 fd77::1/64');
  });

  it('returns the requested interface, even beside others and on the default route', () => {
    expect(chooseFrom([lo, bench, wifi], 'wlp2s0').name).toBe('wlp2s0');
    expect(chooseFrom([lo, bench, wifi], 'enp3s0').name).toBe('enp3s0');
  });

  it('refuses a requested interface that does not exist or cannot serve, listing those that can', () => {
    const missing = choiceError(() => chooseFrom([lo, bench, wifi], 'eth9'));
    expect(missing.problem).toBe('no-such-interface');
    expect(missing.message).toMatch(/no network interface named "eth9".*\n {2}enp3s0 10\.77\.1\.1\/24.*\n {2}wlp2s0/);
    const loopback = choiceError(() => chooseFrom([lo, bench], 'lo'));
    expect(loopback.problem).toBe('unusable');
    expect(loopback.message).toContain('Cannot serve on lo: it is the loopback interface');
    expect(choiceError(() => chooseFrom([bench, unaddressed], 'enx001122334455')).message).toContain(
      'ip addr add 192.168.77.1/24 dev enx001122334455',
    );
    expect(choiceError(() => chooseFrom([down], 'eth1')).message).toContain('No interface could serve');
  });

  it('describes an interface the way an operator tells ports apart', () => {
    expect(describeInterface(wifi)).toBe('wlp2s0 192.168.1.23/24 (wireless, default route, 52:54:00:12:34:56)');
    expect(describeInterface(iface('tun0', { mac: undefined, operstate: 'unknown' }))).toBe('tun0');
  });
});

describe('compareInterfaceStates', () => {
  const present: InterfaceState = { present: true, index: 7, up: true, operstate: 'up', ipv4: ['10.77.1.1/24'], ipv6: ['fd77::1/64'] };
  const absent: InterfaceState = { present: false, up: false, operstate: 'absent', ipv4: [], ipv6: [] };

  it('reports nothing when nothing changed', () => {
    expect(compareInterfaceStates('bench0', present, { ...present, ipv4: ['10.77.1.1/24'] })).toBeUndefined();
  });

  it('keeps the socket across cable unplug/replug and address changes (same index)', () => {
    const unplugged = { ...present, operstate: 'down' };
    expect(compareInterfaceStates('bench0', present, unplugged)).toMatchObject({ needsNewSocket: false });
    expect(compareInterfaceStates('bench0', unplugged, present)).toMatchObject({ needsNewSocket: false });
    expect(compareInterfaceStates('bench0', present, { ...present, ipv4: ['10.77.5.1/24'] })).toMatchObject({
      needsNewSocket: false,
    });
  });

  it('notices an IPv6 address that goes, comes back or changes, on the same socket', () => {
    const gone = compareInterfaceStates('bench0', present, { ...present, ipv6: [] });
    expect(gone).toMatchObject({ needsNewSocket: false, previous: { ipv6: ['fd77::1/64'] }, current: { ipv6: [] } });
    expect(compareInterfaceStates('bench0', { ...present, ipv6: [] }, present)).toMatchObject({ needsNewSocket: false });
    expect(compareInterfaceStates('bench0', present, { ...present, ipv6: ['fd77::2/64'] })).toBeDefined();
  });

  it('asks for a new socket when the interface comes back (or is swapped) under another index', () => {
    expect(compareInterfaceStates('bench0', present, absent)).toMatchObject({ needsNewSocket: false });
    expect(compareInterfaceStates('bench0', absent, { ...present, index: 9 })).toMatchObject({ needsNewSocket: true });
    expect(compareInterfaceStates('bench0', present, { ...present, index: 9 })).toMatchObject({ needsNewSocket: true });
  });
});

describe('usableIpv6Addresses', () => {
  // /proc/net/if_inet6: address, ifindex, prefix length, scope, flags (all hex), name.
  const text = [
    'fd770000000000000000000000000001 03 40 00 80   bench0',
    'fe80000000000000505400fffe000050 03 40 20 80   bench0',
    'fd770000000000000000000000000002 03 40 00 c0   bench0',
    '20010db8000100020000000000000009 03 38 00 00   bench0',
    'fd770000000000000000000000000003 03 40 00 88   bench0',
    'fd770005000000000000000000000001 04 40 00 80   wlan0',
    '00000000000000000000000000000001 01 80 10 80       lo',
  ].join('\n');

  it('keeps global and ULA addresses a URL can name, in the form Node prints, sorted', () => {
    expect(usableIpv6Addresses(text, 'bench0')).toEqual(['2001:db8:1:2::9/56', 'fd77::1/64']);
  });

  it('leaves out link-local, host scope, tentative and failed addresses, and other interfaces', () => {
    expect(usableIpv6Addresses(text, 'lo')).toEqual([]);
    expect(usableIpv6Addresses(text, 'wlan0')).toEqual(['fd77:5::1/64']);
    expect(usableIpv6Addresses('', 'bench0')).toEqual([]);
  });
});

describe('followUrlAddress6', () => {
  it('keeps the address boot URLs name while the interface holds it', () => {
    expect(followUrlAddress6('fd77::1', ['2001:db8::1/64', 'fd77::1/64'])).toBe('fd77::1');
  });

  it('moves to an address left when it goes, and to none when none is left', () => {
    expect(followUrlAddress6('fd77::1', ['fd77::2/64'])).toBe('fd77::2');
    expect(followUrlAddress6('fd77::1', [])).toBeUndefined();
    expect(followUrlAddress6(undefined, ['fd77::1/64'])).toBe('fd77::1');
  });
});

describe('listInterfaces (this machine, read only)', () => {
  it('lists loopback with its address and flags', () => {
    const loopback = listInterfaces().find((entry) => entry.name === 'lo');
    expect(loopback).toMatchObject({ loopback: true, up: true, wireless: false });
    expect(loopback?.ipv4[0]).toMatchObject({ address: '127.0.0.1', network: '127.0.0.0' });
  });
});
