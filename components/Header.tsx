/**
 * Four fixed lines: mode, interface and address, clock; each server's state (errors with their reason);
 * counts and the selection; then the loudest thing the operator should know (a foreign DHCP server,
 * a server error, the latest warning).
 */
import { Box, Text } from 'ink';
import type { RegistrySnapshot, ServerState } from '../src/state/registry.js';
import type { ClientCounts, SortOrder } from './model/client-rows.js';
import type { SystemNote } from './model/console-feed.js';
import { fit, formatClock } from './model/format.js';

export interface HeaderProps {
  readonly mode: 'proxy' | 'dhcp';
  readonly interfaceName: string;
  readonly serverAddress: string;
  readonly servers: RegistrySnapshot['servers'];
  readonly foreignServers: RegistrySnapshot['foreignServers'];
  readonly counts: ClientCounts;
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
      server.state === 'error' ? `${label} ✖ ${server.message ?? 'error'}` : server.state === 'closed' ? `${label} closed` : `${label} ●${portOf(server.address)}`;
    chips.set(label, { label, state: server.state, text });
  }
  const order = ['DHCP', '4011', 'TFTP', 'HTTP', 'API'];
  return [...chips.values()].sort((a, b) => (order.indexOf(a.label) + 1 || 99) - (order.indexOf(b.label) + 1 || 99));
}

const chipColor = { listening: 'green', error: 'red', closed: 'gray' } as const;

export function Header(props: HeaderProps) {
  const mode = props.mode === 'dhcp' ? 'full DHCP' : 'proxyDHCP';
  const clock = formatClock(props.now);
  const title = `pxedeck · ${mode} · ${props.interfaceName} ${props.serverAddress}`;
  const chips = serverChips(props.servers);
  const foreign = [...props.foreignServers.values()];
  const latestProblem = [...props.notes].reverse().find((note) => note.level !== 'info');
  const { counts } = props;
  const countText =
    `seen ${counts.seen}  booting ${counts.booting}  booted ${counts.booted}  failed ${counts.failed}  looping ${counts.looping}` +
    `  held ${counts.held}  stalled ${counts.stalled}`;
  const extra = [props.range, props.selected > 0 && `selected ${props.selected}`, props.filter && `filter "${props.filter}"`, props.sort !== 'recent' && `sort ${props.sort}`]
    .filter(Boolean)
    .join('  ');
  const width = props.width - 1;
  let alert: { text: string; color: 'red' | 'yellow' } | undefined;
  if (!props.isRunning) alert = { text: 'servers are stopped (restarting or failed to start): see L for the log', color: 'red' };
  else if (foreign.length > 0) {
    alert = {
      text: `⚠ other DHCP server${foreign.length > 1 ? 's' : ''} on this segment: ${foreign.map((server) => `${server.server}${server.offered ? ` (offered ${server.offered})` : ''}`).join(', ')}`,
      color: 'yellow',
    };
  } else if (latestProblem) alert = { text: `${latestProblem.level === 'error' ? '✖' : '!'} ${latestProblem.text}`, color: latestProblem.level === 'error' ? 'red' : 'yellow' };
  return (
    <Box flexDirection="column" width={props.width}>
      <Text wrap="truncate">
        <Text bold color="cyan">
          {fit(title, Math.max(0, width - clock.length - 1))}
        </Text>{' '}
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
