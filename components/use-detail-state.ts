/** The detail view's tab and scroll position; the timeline follows new events until the operator scrolls up. */
import { useReducer } from 'react';

export const detailTabs = ['timeline', 'script', 'pxelinux', 'grub'] as const;
export type DetailTab = (typeof detailTabs)[number];

export interface DetailState {
  readonly tab: DetailTab;
  /** First line shown; ignored while following. */
  readonly scroll: number;
  /** Stick to the newest lines (the timeline's end). */
  readonly isFollowing: boolean;
}

export type DetailAction =
  | { readonly type: 'nextTab' }
  | { readonly type: 'scroll'; readonly delta: number; readonly maxScroll: number; readonly current: number }
  | { readonly type: 'edge'; readonly to: 'top' | 'bottom' };

export const initialDetailState: DetailState = { tab: 'timeline', scroll: 0, isFollowing: true };

export function detailReducer(state: DetailState, action: DetailAction): DetailState {
  switch (action.type) {
    case 'nextTab': {
      const tab = detailTabs[(detailTabs.indexOf(state.tab) + 1) % detailTabs.length]!;
      return { tab, scroll: 0, isFollowing: tab === 'timeline' };
    }
    case 'scroll': {
      const scroll = Math.max(0, Math.min(action.maxScroll, action.current + action.delta));
      return { ...state, scroll, isFollowing: state.tab === 'timeline' && scroll >= action.maxScroll };
    }
    case 'edge':
      return { ...state, scroll: 0, isFollowing: action.to === 'bottom' };
  }
}

/** The first visible line for `total` lines in `height` rows. */
export function visibleStart(state: DetailState, total: number, height: number): number {
  const maxScroll = Math.max(0, total - height);
  return state.isFollowing ? maxScroll : Math.min(state.scroll, maxScroll);
}

export function useDetailState() {
  return useReducer(detailReducer, initialDetailState);
}
