/**
 * Four fixed lines: mode, interface and address, who advertises as IPv6 router (as much of it as fits),
 * clock; each server's state (errors with their reason);
 * counts and the selection; then the loudest thing the operator should know (a foreign DHCP server,
 * a server error, the latest warning).
 */
import { Box, Text } from 'ink';
import type { RegistrySnapshot, ServerState } from '../src/state/registry.js';
import { segmentAdvertiser, type RouterAdvertView } from '../src/state/router-adverts.js';
import type { ClientCounts, SortOrder } from './model/client-rows.js';
import type { SystemNote } from './model/console-feed.js';
import { fit, formatHourMinute } from './model/format.js';

export interface HeaderProps {
  readonly mode: 'proxy' | 'dhcp';
  readonly interfaceName: string;
  readonly serverAddress: string;
  readonly servers: RegistrySnapshot['servers'];
  readonly foreignServers: RegistrySnapshot['foreignServers'];
  /** Absent or `off` (no IPv6 on the interface): nothing about routers is shown. */
  readonly routerAdverts?: RouterAdvertView;
  readonly counts: ClientCounts;
  /** Machines the registry forgot to stay within its bounds (seen least recently first). */
  readonly evicted?: number;
  readonly selected: number;
  readonly sort: SortOrder;
  readonly filter: string;
  /** "rows 1–13 of 40" when the table shows part of the list. */
  readonly range?: string;
  readonly notes: readonly SystemNote[];
  readonly now: number;
  readonly width: number;
  readonly isRunning: boolean;
}

/** Display names; the DHCP server reports as dhcp4-proxy / dhcp4-full when listening and dhcp4 on errors. */
function serverLabel(name: string): string {
  if (name.startsWith('dhcp4')) return 'DHCP';
  if (name === 'pxe-boot-server') return '4011';
  if (name === 'control') return 'API';
  return name.toUpperCase();
}

function portOf(address: string | undefined): string {
  const match = address ? /:(\d+)$/.exec(address) : null;
  return match ? `:${match[1]}` : '';
}

interface ServerChip {
  readonly label: string;
  readonly state: ServerState['state'];
  readonly text: string;
}

/** One chip per service; an error beats an earlier "listening" of the same service. */
export function serverChips(servers: RegistrySnapshot['servers']): ServerChip[] {
  const chips = new Map<string, ServerChip>();
  for (const server of servers.values()) {
    const label = serverLabel(server.server);
    const previous = chips.get(label);
    if (previous?.state === 'error' && server.state !== 'error') continue;
    const text =
      server.state === 'error'
        ? `${label} ✖ ${server.message ?? 'error'}`
        : server.state === 'closed'
          ? `${label} closed`
          : server.state === 'not-applicable'
            ? `${label} n/a`
            : `${label} ●${portOf(server.address)}`;
    chips.set(label, { label, state: server.state, text });
  }
  const order = ['DHCP', '4011', 'TFTP', 'HTTP', 'API'];
  return [...chips.values()].sort((a, b) => (order.indexOf(a.label) + 1 || 99) - (order.indexOf(b.label) + 1 || 99));
}

const chipColor = { listening: 'green', error: 'red', closed: 'gray', 'not-applicable': 'gray' } as const;

function flagsText(flags: { readonly managed: boolean; readonly other: boolean }): string {
  if (flags.managed && flags.other) return 'M O';
  if (flags.managed) return 'M';
  return flags.other ? 'O' : 'no M/O';
}

export interface RouterAdvertText {
  readonly text: string;
  readonly color: 'green' | 'yellow' | 'gray' | 'white';
}

/**
 * Who advertises as router, in the longest form that fits `width` (prefixes, then the lifetime, then the
 * word "router" go first); undefined when there is no RA service or not even the shortest form fits.
 * A router without M and O is yellow: firmware then never asks DHCPv6, so IPv6 machines will not reach us.
 */
export function routerAdvertText(view: RouterAdvertView | undefined, width: number): RouterAdvertText | undefined {
  const who = view && segmentAdvertiser(view);
  if (!who) return undefined;
  let forms: string[];
  let color: RouterAdvertText['color'];
  if (who.kind === 'router') {
    const { router } = who;
    const flags = flagsText(router);
    const name = `${router.address}${who.others > 0 ? ` (+${who.others})` : ''}`;
    forms = [
      ...(router.prefixes.length > 0 ? [`RA: router ${name} · ${flags} · lifetime ${router.routerLifetime} s · ${router.prefixes.join(', ')}`] : []),
      `RA: router ${name} · ${flags} · lifetime ${router.routerLifetime} s`,
      `RA: router ${name} · ${flags}`,
      `RA: ${router.address} ${flags}`,
      `RA: router ${flags}`,
    ];
    color = router.managed || router.other ? 'white' : 'yellow';
  } else if (who.kind === 'pxedeck') {
    const flags = flagsText(who.ours);
    const more = who.others > 0 ? ` (+${who.others} other)` : '';
    const lifetime = `lifetime ${who.ours.routerLifetime} s`;
    const prefixes = who.ours.prefixes.join(', ');
    // As a router's, prefixes go before the lifetime; a narrower header still keeps the prefixes over nothing.
    forms = [
      ...(prefixes ? [`RA: pxedeck${more} · ${flags} · ${lifetime} · ${prefixes}`] : []),
      `RA: pxedeck${more} · ${flags} · ${lifetime}`,
      ...(prefixes ? [`RA: pxedeck${more} · ${flags} · ${prefixes}`] : []),
      `RA: pxedeck${more} · ${flags}`,
      `RA: pxedeck ${flags}`,
      'RA: pxedeck',
    ];
    color = 'green';
  } else {
    forms = who.isListening ? ['RA: asking for routers…', 'RA: asking…'] : ['RA: none'];
    color = 'gray';
  }
  const text = forms.find((form) => form.length <= width);
  return text ? { text, color } : undefined;
}

type ForeignServerView = HeaderProps['foreignServers'] extends ReadonlyMap<string, infer V> ? V : never;

/**
 * Another DHCP server is a problem in full mode (two servers, two pools). In proxy mode the site's server
 * is the partner we expect, worth a quiet line; it becomes a warning only when it hands out a boot file
 * too, since PXE clients may then boot its program instead of ours (one way a machine ends up looping).
 */
export function foreignServerLine(mode: HeaderProps['mode'], foreign: readonly ForeignServerView[]): { text: string; color: 'yellow' | 'gray' } | undefined {
  if (foreign.length === 0) return undefined;
  const describe = (server: ForeignServerView): string => `${server.server}${server.offered ? ` (offered ${server.offered})` : ''}`;
  if (mode === 'dhcp') {
    return { text: `⚠ other DHCP server${foreign.length > 1 ? 's' : ''} on this segment: ${foreign.map(describe).join(', ')}`, color: 'yellow' };
  }
  const booting = foreign.filter((server) => server.bootFile);
  if (booting.length > 0) {
    const names = booting.map((server) => `${server.server} hands out boot file ${server.bootFile}`).join(', ');
    return { text: `⚠ site DHCP ${names}: PXE clients may boot it instead of ours`, color: 'yellow' };
  }
  return { text: `site DHCP server${foreign.length > 1 ? 's' : ''} beside us: ${foreign.map(describe).join(', ')}`, color: 'gray' };
}

export function Header(props: HeaderProps) {
  const mode = props.mode === 'dhcp' ? 'full DHCP' : 'proxyDHCP';
  const clock = formatHourMinute(props.now);
  const title = `pxedeck · ${mode} · ${props.interfaceName} ${props.serverAddress}`;
  const chips = serverChips(props.servers);
  const foreign = [...props.foreignServers.values()];
  const latestProblem = [...props.notes].reverse().find((note) => note.level !== 'info');
  const { counts } = props;
  const countText =
    `seen ${counts.seen}${props.evicted ? ` (+${props.evicted} older forgotten)` : ''}  booting ${counts.booting}  booted ${counts.booted}  failed ${counts.failed}  looping ${counts.looping}` +
    `  held ${counts.held}  stalled ${counts.stalled}`;
  const extra = [props.range, props.selected > 0 && `selected ${props.selected}`, props.filter && `filter "${props.filter}"`, props.sort !== 'recent' && `sort ${props.sort}`]
    .filter(Boolean)
    .join('  ');
  const width = props.width - 1;
  // The title is never cut for the router; what room it leaves (two spaces apart) is the router's.
  const titleRoom = Math.max(0, width - clock.length - 1);
  const ra = title.length < titleRoom ? routerAdvertText(props.routerAdverts, titleRoom - title.length - 2) : undefined;
  let alert: { text: string; color: 'red' | 'yellow' | 'gray' } | undefined;
  const foreignLine = foreignServerLine(props.mode, foreign);
  if (!props.isRunning) alert = { text: 'servers are stopped (restarting or failed to start): see L for the log', color: 'red' };
  else if (foreignLine?.color === 'yellow') alert = foreignLine;
  else if (latestProblem) alert = { text: `${latestProblem.level === 'error' ? '✖' : '!'} ${latestProblem.text}`, color: latestProblem.level === 'error' ? 'red' : 'yellow' };
  else alert = foreignLine;
  return (
    <Box flexDirection="column" width={props.width}>
      <Text wrap="truncate">
        <Text bold color="cyan">
          {fit(title, ra ? title.length : titleRoom)}
        </Text>
        {ra ? <Text color={ra.color}>{fit(`  ${ra.text}`, titleRoom - title.length)}</Text> : null}{' '}
        <Text dimColor>{clock}</Text>
      </Text>
      <Text wrap="truncate">
        {chips.length === 0 ? <Text dimColor>starting servers…</Text> : null}
        {chips.map((chip, index) => (
          <Text key={chip.label} color={chipColor[chip.state]}>
            {index > 0 ? '  ' : ''}
            {chip.text}
          </Text>
        ))}
      </Text>
      <Text wrap="truncate">
        <Text>{countText}</Text>
        {extra ? <Text color="cyan">{`  ${extra}`}</Text> : null}
      </Text>
      <Text wrap="truncate" color={alert?.color ?? 'gray'}>
        {alert ? fit(alert.text, width) : ' '}
      </Text>
    </Box>
  );
}
