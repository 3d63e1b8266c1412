/**
 * Keys of the table view (and the operator keys the detail view shares). Only active while no dialog,
 * help, log or settings screen has the keyboard.
 */
import type { Key } from 'ink';
import { useKeys } from './use-keys.js';
import type { Dispatch } from 'react';
import type { Mac } from '../src/protocol/mac.js';
import type { OperatorAction } from '../src/state/operator.js';
import type { ConsoleAction } from './use-console-state.js';

export interface OperatorKeyHandlers {
  /** Opens the profile or menu picker. */
  onPick(list: 'profile' | 'menu', once: boolean): void;
  onOperator(action: OperatorAction): void;
  onVariables(): void;
  onExport(): void;
}

/** The keys that act on machines, shared by the table and the detail view; true when the key was one. */
export function handleOperatorKey(input: string, handlers: OperatorKeyHandlers): boolean {
  switch (input) {
    case 'a':
      handlers.onPick('profile', false);
      return true;
    case 'm':
      handlers.onPick('menu', false);
      return true;
    case 'o':
      handlers.onPick('profile', true);
      return true;
    case 'l':
      handlers.onOperator({ kind: 'local' });
      return true;
    case 'h':
      handlers.onOperator({ kind: 'hold' });
      return true;
    case 'r':
      handlers.onOperator({ kind: 'release' });
      return true;
    case 'i':
      handlers.onOperator({ kind: 'ignore' });
      return true;
    case 'c':
      handlers.onOperator({ kind: 'clear' });
      return true;
    case 'b':
      handlers.onOperator({ kind: 'uefi', choice: 'next' });
      return true;
    case 'v':
      handlers.onVariables();
      return true;
    case 'e':
      handlers.onExport();
      return true;
    default:
      return false;
  }
}

export interface ConsoleInputOptions extends OperatorKeyHandlers {
  readonly isActive: boolean;
  readonly isFiltering: boolean;
  readonly hasFilter: boolean;
  /** Row order as shown (MACs), for moving the cursor. */
  readonly order: readonly Mac[];
  readonly pageSize: number;
  readonly cursor: Mac | undefined;
  readonly dispatch: Dispatch<ConsoleAction>;
  onSelectNew(): void;
  onQuit(): void;
}

export function useConsoleInput(options: ConsoleInputOptions): void {
  useKeys(
    (input: string, key: Key) => {
      const { dispatch, order } = options;
      if (options.isFiltering) {
        if (key.escape) dispatch({ type: 'filterEnd', keep: false });
        else if (key.return) dispatch({ type: 'filterEnd', keep: true });
        else if (key.backspace || key.delete) dispatch({ type: 'filterErase' });
        else if (input && !key.ctrl && !key.meta && /^[\x20-\x7e]+$/.test(input)) dispatch({ type: 'filterType', text: input });
        return;
      }
      if (key.ctrl && input === 'c') return options.onQuit();
      if (key.upArrow || input === 'k') return dispatch({ type: 'move', delta: -1, order });
      if (key.downArrow || input === 'j') return dispatch({ type: 'move', delta: 1, order });
      if (key.pageUp) return dispatch({ type: 'move', delta: -options.pageSize, order });
      if (key.pageDown) return dispatch({ type: 'move', delta: options.pageSize, order });
      if (key.home || input === 'g') return dispatch({ type: 'jump', to: 'top', order });
      if (key.end || input === 'G') return dispatch({ type: 'jump', to: 'bottom', order });
      if (key.return) {
        if (options.cursor) dispatch({ type: 'point', mac: options.cursor });
        return options.cursor ? dispatch({ type: 'view', view: 'detail' }) : undefined;
      }
      if (key.escape) {
        if (options.hasFilter) return dispatch({ type: 'filterEnd', keep: false });
        return dispatch({ type: 'clearMarks' });
      }
      if (input === ' ') return options.cursor ? dispatch({ type: 'toggleMark', mac: options.cursor }) : undefined;
      if (handleOperatorKey(input, options)) return;
      switch (input) {
        case 'n':
          return options.onSelectNew();
        case 'x':
          return dispatch({ type: 'clearMarks' });
        case '/':
          return dispatch({ type: 'filterStart' });
        case 't':
          return dispatch({ type: 'cycleSort' });
        case 'L':
          return dispatch({ type: 'view', view: 'log' });
        case 's':
          return dispatch({ type: 'view', view: 'settings' });
        case '?':
          return dispatch({ type: 'view', view: 'help' });
        case 'q':
          return options.onQuit();
        default:
          return undefined;
      }
    },
    { isActive: options.isActive },
  );
}
