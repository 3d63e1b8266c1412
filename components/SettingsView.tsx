/**
 * Settings as the servers run with them, where each value comes from (flag, settings.json, default),
 * edits kept until applied; applying saves settings.json and restarts the servers (clients keep their
 * records; a configuration that will not start is rolled back). `SettingsView` wires state, input and
 * the server control; `SettingsBody` only renders.
 */
import { Box, Text } from 'ink';
import { BENCH_ROUTER_LIFETIME, type Settings } from '../src/state/settings.js';
import { fit } from './model/format.js';
import { editableSettings, type EditableSetting, type RuntimeConfig, type ServerControl } from './model/server-control.js';
import { TextField } from './TextField.js';
import { useSettingsInput } from './use-settings-input.js';
import { settingValue, useSettingsState, type SettingsState } from './use-settings-state.js';

const descriptions: Record<EditableSetting, string> = {
  interface: 'bench interface the DHCP sockets are pinned to',
  mode: 'proxy (beside the site DHCP) or dhcp (full, isolated switch)',
  pool: 'full DHCP pool FIRST-LAST',
  bootDir: 'kernels, initrds, extra binaries',
  httpPort: 'HTTP port for scripts and files',
  defaultTarget: 'what unknown machines get: menu:ID profile:ID local hold ignore',
  leaseSeconds: 'full DHCP lease time',
  raLifetime: `pxedeck's RA router lifetime, s (unset: proxy 0, dhcp ${BENCH_ROUTER_LIFETIME})`,
  controlPort: 'control API port on loopback (0: off)',
  uefiBootProgram: 'x64 UEFI without a choice of its own: ipxe (signed chain once Secure Boot refuses it) or signed',
};

export function currentValue(settings: Settings, field: EditableSetting): string {
  const value = settings[field];
  return value === undefined ? '' : String(value);
}

export interface SettingsBodyProps {
  readonly config: RuntimeConfig;
  readonly settingsPath: string;
  readonly state: SettingsState;
  readonly height: number;
  readonly width: number;
}

export function SettingsBody(props: SettingsBodyProps) {
  const { state, config } = props;
  const width = props.width - 1;
  const pendingCount = Object.keys(state.pending).length;
  return (
    <Box flexDirection="column" height={props.height}>
      <Text bold color="cyan" wrap="truncate">
        {fit(`Settings — ${props.settingsPath}`, width)}
      </Text>
      <Text dimColor wrap="truncate">
        {fit(`serving on ${config.interfaceName} ${config.serverAddress}, scripts from ${config.serverBase}`, width)}
      </Text>
      <Text> </Text>
      {editableSettings.map((field, index) => {
        const isCurrent = index === state.index;
        const pending = state.pending[field];
        const isFlag = config.flagged.includes(field);
        const shown = pending !== undefined ? (pending === '' ? '(default)' : pending) : currentValue(config.settings, field) || '(not set)';
        const source = pending !== undefined ? 'changed, not applied' : isFlag ? 'from a command-line flag' : '';
        if (isCurrent && state.isEditing) {
          return (
            <Text key={field} wrap="truncate">
              {`› ${field.padEnd(15)} `}
              <TextField value={state.draft} isFocused />
            </Text>
          );
        }
        return (
          <Text key={field} inverse={isCurrent} wrap="truncate" {...(pending !== undefined && { color: 'yellow' })}>
            {fit(`${isCurrent ? '›' : ' '} ${field.padEnd(15)} ${shown.padEnd(23)} ${source ? `[${source}] ` : ''}${descriptions[field]}`, width)}
          </Text>
        );
      })}
      <Text> </Text>
      {state.isApplying ? <Text color="yellow">applying: servers are restarting…</Text> : null}
      {state.result ? (
        <Text color={state.result.ok ? 'green' : 'red'} wrap="truncate">
          {fit(state.result.message, width)}
        </Text>
      ) : null}
      <Box flexGrow={1} />
      <Text dimColor wrap="truncate">
        {state.isEditing
          ? 'Enter keep  Esc cancel  (empty: back to the default)'
          : `↑↓ choose  Enter edit  w apply${pendingCount ? ` ${pendingCount} change${pendingCount > 1 ? 's' : ''} (servers restart)` : ''}  u undo edits  Esc back`}
      </Text>
    </Box>
  );
}

export interface SettingsViewProps {
  readonly control: ServerControl;
  readonly isActive: boolean;
  readonly height: number;
  readonly width: number;
  onClose(): void;
  onApplied(ok: boolean, message: string): void;
}

export function SettingsView(props: SettingsViewProps) {
  const [state, dispatch] = useSettingsState();
  const config = props.control.config();
  useSettingsInput({
    isActive: props.isActive,
    state,
    fields: editableSettings,
    dispatch,
    valueOf: (field) => state.pending[field] ?? currentValue(config.settings, field),
    onApply() {
      const entries = Object.entries(state.pending) as Array<[EditableSetting, string]>;
      if (entries.length === 0) return dispatch({ type: 'applied', ok: true, message: 'nothing to apply: edit a field with Enter first' });
      dispatch({ type: 'applying' });
      const changes = Object.fromEntries(entries.map(([field, text]) => [field, settingValue(field, text)]));
      void props.control.apply(changes).then((result) => {
        dispatch({ type: 'applied', ok: result.ok, message: result.message });
        props.onApplied(result.ok, result.message);
      });
      return undefined;
    },
    onClose: props.onClose,
  });
  return <SettingsBody config={config} settingsPath={props.control.settingsPath} state={state} height={props.height} width={props.width} />;
}
