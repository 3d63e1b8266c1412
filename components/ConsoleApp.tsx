/**
 * The live console: header, client table, the selected machine's detail, footer; the detail, help, log
 * and settings screens; the picker and variables dialogs. Reads registry snapshots (throttled to ~10 a
 * second), the operator's assignments and the server control; dispatches operator actions. Never
 * touches a socket: quitting asks the server control to shut down, then Ink exits.
 */
import { Box, useApp } from 'ink';
import { useMemo, useRef, useSyncExternalStore, type ReactNode } from 'react';
import type { Mac } from '../src/protocol/mac.js';
import type { Operator, OperatorAction } from '../src/state/operator.js';
import { ClientTable, scrollWindow } from './ClientTable.js';
import { DetailPane } from './DetailPane.js';
import { DetailScreen } from './DetailView.js';
import { Footer } from './Footer.js';
import { Header } from './Header.js';
import { HelpView } from './HelpView.js';
import { LogView } from './LogView.js';
import { buildRows, countRows, type ClientRow } from './model/client-rows.js';
import { clientStatus } from './model/client-status.js';
import type { ConsoleFeed } from './model/console-feed.js';
import { tableColumns } from './model/columns.js';
import { detailKeys, footerLine, tableKeys } from './model/key-help.js';
import { buildReport } from './model/report.js';
import { timeReading } from './model/time-reading.js';
import type { ServerControl } from './model/server-control.js';
import { ProfilePicker } from './ProfilePicker.js';
import { SettingsView } from './SettingsView.js';
import { VariablesEditor, type VariableField } from './VariablesEditor.js';
import { useConsoleInput } from './use-console-input.js';
import { KeyRouter, useKeys } from './use-keys.js';
import { actionTargets, cursorIn, useConsoleState, type ConsoleState } from './use-console-state.js';
import { useNow } from './use-now.js';
import { useRegistrySnapshot, FRAME_INTERVAL_MS } from './use-registry-snapshot.js';
import { useTerminalSize, type TerminalSize } from './use-terminal-size.js';

export interface ConsoleAppProps {
  readonly feed: ConsoleFeed;
  readonly operator: Operator;
  readonly control: ServerControl;
  /** Fixed size and clock: layout tests and renderToString. */
  readonly size?: TerminalSize;
  readonly now?: number;
  readonly frameIntervalMs?: number;
  readonly initialState?: Partial<ConsoleState>;
}

/** Header lines, and the message and key lines of the footer. */
const HEADER_LINES = 4;
const FOOTER_LINES = 2;

/** How the screen's rows are shared: the table gets what the header, footer and detail strip leave. */
export function screenLayout(rows: number): { readonly main: number; readonly table: number; readonly detail: number } {
  // One row short of the terminal: a frame as tall as the screen makes Ink clear it on every render.
  const main = Math.max(4, rows - 1 - HEADER_LINES - FOOTER_LINES);
  const detail = rows >= 30 ? Math.min(12, Math.floor(main * 0.32)) : Math.min(3, Math.max(0, main - 4));
  return { main, table: main - detail, detail };
}

function variableFields(operator: Operator, macs: readonly Mac[]): VariableField[] {
  return operator.variableNames(macs).map((name) => {
    const values = new Set(macs.map((mac) => operator.variables(mac)[name] ?? ''));
    return { name, value: values.size === 1 ? [...values][0]! : undefined };
  });
}

export function ConsoleApp(props: ConsoleAppProps) {
  const { feed, operator, control } = props;
  const { exit } = useApp();
  const size = useTerminalSize(props.size);
  const snapshot = useRegistrySnapshot(feed.registry, props.frameIntervalMs ?? FRAME_INTERVAL_MS);
  const operatorVersion = useSyncExternalStore(operator.subscribe, operator.getVersion, operator.getVersion);
  useSyncExternalStore(control.subscribe, control.getVersion, control.getVersion);
  const [state, dispatch] = useConsoleState(props.initialState);
  const offsetRef = useRef(0);
  // Called at the clock's checks, after this render: `found` below is the machine in focus on this frame.
  const readAt = (at: number) => timeReading({ snapshot, targets: operator, ...(found && { focus: found.mac }) }, at);
  const now = useNow(readAt, props.now === undefined ? {} : { fixed: props.now });

  // Statuses age with the clock ("stalled" after a quiet spell): recompute on each second as well.
  const second = Math.floor(now / 1000);
  // `second` stands for `now` in the dependencies: rows are rebuilt per frame or per second, not per render.
  const allRows = useMemo(() => buildRows(snapshot, operator, { now, sort: state.sort, filter: '' }), [snapshot, operator, operatorVersion, state.sort, second]);
  const rows = useMemo(
    () => (state.filter ? buildRows(snapshot, operator, { now, sort: state.sort, filter: state.filter }) : allRows),
    [allRows, state.filter],
  );
  const counts = useMemo(() => countRows(allRows), [allRows]);
  const order = useMemo(() => rows.map((row) => row.mac), [rows]);
  const cursor = cursorIn(state, order);
  const found: ClientRow | undefined = rows.find((row) => row.mac === cursor) ?? allRows.find((row) => row.mac === state.cursor);
  // Rows carry badges only; the machine in focus also gets its diagnosis.
  const cursorRow: ClientRow | undefined = found && { ...found, status: clientStatus(found.record, operator.target(found.mac), now) };

  const layout = screenLayout(size.rows);
  const columns = tableColumns(size.columns);
  const tableRows = layout.table - 1;
  const cursorIndex = cursor === undefined ? 0 : order.indexOf(cursor);
  offsetRef.current = scrollWindow(offsetRef.current, cursorIndex, tableRows, rows.length);
  const visible = rows.slice(offsetRef.current, offsetRef.current + tableRows);

  const say = (text: string, level: 'info' | 'error' = 'info') => dispatch({ type: 'message', message: { text, level } });
  const targets = (): Mac[] => (state.view === 'detail' && state.cursor ? [state.cursor] : actionTargets(state, order));
  const runOperator = (action: OperatorAction, macs: readonly Mac[] = targets()) => {
    const result = operator.dispatch(macs, action);
    say(result.message, result.ok ? 'info' : 'error');
    if (result.ok) feed.note('info', `operator: ${result.message} (${result.macs.join(', ')})`);
    return result.ok;
  };
  const quit = () => {
    if (state.isQuitting) return;
    dispatch({ type: 'quitting' });
    say('stopping the servers…');
    void control.shutdown().finally(() => exit());
  };
  const handlers = {
    onPick(list: 'profile' | 'menu', once: boolean) {
      const macs = targets();
      if (macs.length === 0) return say('no machine selected', 'error');
      operator.reloadLibrary();
      return dispatch({ type: 'openDialog', dialog: { kind: 'picker', list, once, macs } });
    },
    onOperator: (action: OperatorAction) => {
      runOperator(action);
    },
    onVariables() {
      const macs = targets();
      if (macs.length === 0) return say('no machine selected', 'error');
      return dispatch({ type: 'openDialog', dialog: { kind: 'variables', macs } });
    },
    onExport() {
      const row = cursorRow;
      if (!row) return say('no machine selected', 'error');
      try {
        const config = control.config();
        const text = buildReport({
          record: row.record,
          vendor: row.vendor,
          status: row.status,
          target: operator.target(row.mac),
          assignment: operator.assignment(row.mac),
          ipxeScript: operator.ipxeScript(row.mac, row.record.ip),
          pxelinuxConfig: operator.pxelinuxConfig(row.mac, row.record.ip),
          grubConfig: operator.grubConfig(row.mac, row.record.ip),
          generatedAt: Date.now(),
          server: `${config.settings.mode} on ${config.interfaceName} (${config.serverAddress})`,
        });
        return say(`report for ${row.mac} written to ${operator.saveReport(row.mac, text)}`);
      } catch (error) {
        return say(`could not write the report: ${(error as Error).message}`, 'error');
      }
    },
  };

  const isTableActive = state.view === 'table' && !state.dialog && !state.isQuitting;
  useConsoleInput({
    ...handlers,
    isActive: isTableActive,
    isFiltering: state.isFiltering,
    hasFilter: state.filter !== '',
    order,
    pageSize: Math.max(1, tableRows - 1),
    cursor,
    dispatch,
    onSelectNew() {
      const fresh = order.filter((mac) => operator.isNew(mac));
      dispatch({ type: 'markMany', macs: fresh });
      say(fresh.length === 0 ? 'no new machines: every machine shown has an assignment' : `selected ${fresh.length} new machine${fresh.length > 1 ? 's' : ''}`);
    },
    onQuit: quit,
  });
  // Help and log close on any key.
  useKeys(
    (input, key) => {
      if (key.ctrl && input === 'c') return quit();
      return dispatch({ type: 'view', view: 'table' });
    },
    { isActive: (state.view === 'help' || state.view === 'log') && !state.isQuitting },
  );

  let main: ReactNode;
  let keys = footerLine(tableKeys);
  const dialog = state.dialog;
  if (dialog?.kind === 'picker') {
    keys = '';
    main = (
      <ProfilePicker
        list={dialog.list}
        choices={dialog.list === 'profile' ? operator.profiles() : operator.menus()}
        machines={dialog.macs.length}
        isOnce={dialog.once}
        isActive={!state.isQuitting}
        height={layout.main}
        width={size.columns}
        onSubmit={(id, once) => {
          runOperator(dialog.list === 'profile' ? { kind: 'profile', profile: id, once } : { kind: 'menu', menu: id, once }, dialog.macs);
          dispatch({ type: 'closeDialog' });
        }}
        onCancel={() => dispatch({ type: 'closeDialog' })}
      />
    );
  } else if (dialog?.kind === 'variables') {
    keys = '';
    main = (
      <VariablesEditor
        fields={variableFields(operator, dialog.macs)}
        machines={dialog.macs.length}
        isActive={!state.isQuitting}
        height={layout.main}
        width={size.columns}
        onSave={(name, value) => runOperator({ kind: 'variables', variables: { [name]: value } }, dialog.macs)}
        onError={(message) => say(message, 'error')}
        onClose={() => dispatch({ type: 'closeDialog' })}
      />
    );
  } else if (state.view === 'detail' && cursorRow) {
    keys = `${footerLine(detailKeys)}  a assign  h hold  r release  e export`;
    main = (
      <DetailScreen
        {...handlers}
        content={{
          row: cursorRow,
          variables: operator.variables(cursorRow.mac),
          script: operator.ipxeScript(cursorRow.mac, cursorRow.record.ip),
          pxelinux: operator.pxelinuxConfig(cursorRow.mac, cursorRow.record.ip),
          grub: operator.grubConfig(cursorRow.mac, cursorRow.record.ip),
        }}
        width={size.columns}
        height={layout.main}
        now={now}
        isActive={!state.isQuitting}
        onBack={() => dispatch({ type: 'view', view: 'table' })}
        onQuit={quit}
      />
    );
  } else if (state.view === 'help') {
    keys = '';
    main = <HelpView height={layout.main} width={size.columns} />;
  } else if (state.view === 'log') {
    keys = '';
    main = <LogView notes={feed.notes()} height={layout.main} width={size.columns} />;
  } else if (state.view === 'settings') {
    keys = '';
    main = (
      <SettingsView
        control={control}
        isActive={!state.isQuitting}
        height={layout.main}
        width={size.columns}
        onClose={() => dispatch({ type: 'view', view: 'table' })}
        onApplied={(ok, message) => {
          say(message, ok ? 'info' : 'error');
          feed.note(ok ? 'info' : 'error', `settings: ${message}`);
        }}
      />
    );
  } else {
    main = (
      <Box flexDirection="column">
        <ClientTable
          rows={visible}
          columns={columns}
          cursor={cursor}
          marks={state.marks}
          height={layout.table - 1}
          now={now}
          {...(state.filter && { emptyText: `  no machine matches "${state.filter}" (Esc clears the filter)` })}
        />
        <DetailPane row={cursorRow} variables={cursorRow ? operator.variables(cursorRow.mac) : {}} height={layout.detail} width={size.columns} now={now} />
      </Box>
    );
  }

  const config = control.config();
  return (
    <Box flexDirection="column" width={size.columns} height={size.rows - 1}>
      <Header
        mode={config.settings.mode}
        interfaceName={config.interfaceName}
        serverAddress={config.serverAddress}
        servers={snapshot.servers}
        foreignServers={snapshot.foreignServers}
        routerAdverts={snapshot.routerAdverts}
        counts={counts}
        evicted={snapshot.evicted}
        selected={state.marks.size}
        sort={state.sort}
        filter={state.filter}
        {...(rows.length > visible.length && visible.length > 0 && { range: `rows ${offsetRef.current + 1}–${offsetRef.current + visible.length} of ${rows.length}` })}
        notes={feed.notes()}
        now={now}
        width={size.columns}
        isRunning={control.isRunning()}
      />
      <Box flexDirection="column" height={layout.main}>
        {main}
      </Box>
      <Footer keys={keys} width={size.columns} {...(state.message && { message: state.message })} filter={{ text: state.filter, isEditing: state.isFiltering }} />
    </Box>
  );
}

/** The console as run on a terminal: keys enter through one router (see use-keys.ts). */
export function ConsoleRoot(props: ConsoleAppProps) {
  return (
    <KeyRouter>
      <ConsoleApp {...props} />
    </KeyRouter>
  );
}
