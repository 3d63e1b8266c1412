/** Keys of the detail view: tabs, scrolling, back; the operator keys act on the machine shown. */
import type { Key } from 'ink';
import { useKeys } from './use-keys.js';
import type { Dispatch } from 'react';
import { handleOperatorKey, type OperatorKeyHandlers } from './use-console-input.js';
import type { DetailAction } from './use-detail-state.js';

export interface DetailInputOptions extends OperatorKeyHandlers {
  readonly isActive: boolean;
  readonly dispatch: Dispatch<DetailAction>;
  /** Lines of the current tab and the rows they are shown in. */
  readonly total: number;
  readonly height: number;
  readonly start: number;
  onBack(): void;
  onQuit(): void;
}

export function useDetailInput(options: DetailInputOptions): void {
  useKeys(
    (input: string, key: Key) => {
      const { dispatch } = options;
      const maxScroll = Math.max(0, options.total - options.height);
      const scroll = (delta: number) => dispatch({ type: 'scroll', delta, maxScroll, current: options.start });
      if (key.ctrl && input === 'c') return options.onQuit();
      if (key.escape || key.leftArrow || input === 'q') return options.onBack();
      if (key.tab) return dispatch({ type: 'nextTab' });
      if (key.upArrow || input === 'k') return scroll(-1);
      if (key.downArrow || input === 'j') return scroll(1);
      if (key.pageUp) return scroll(-Math.max(1, options.height - 1));
      if (key.pageDown || input === ' ') return scroll(Math.max(1, options.height - 1));
      if (key.home || input === 'g') return dispatch({ type: 'edge', to: 'top' });
      if (key.end || input === 'G') return dispatch({ type: 'edge', to: 'bottom' });
      handleOperatorKey(input, options);
      return undefined;
    },
    { isActive: options.isActive },
  );
}
