/**
 * Loads Ink for a long-running console, working around two things that would otherwise grow or slow it:
 *
 * - React's development build (3–4× the CPU per frame): NODE_ENV defaults to production before React
 *   is first loaded.
 * - Ink 6's text measurement cache (measure-text.js) keeps every distinct string ever laid out, forever
 *   (vadimdemedes/ink#986; bounded only in Ink releases that need Node 22). A console whose clock,
 *   progress bars and ages change every frame grows by ~1 MB/s under load. The cache is a module-level
 *   Map that Ink does not export, so it is found here: Maps created while Ink's modules evaluate are
 *   noted, a probe string is measured, and the Map holding it is the cache. `trimCaches` clears it past
 *   a bound (it is a pure memo: clearing costs one re-measure per line).
 *
 * Call `loadInk` before anything imports 'ink' or 'react'; if Ink was already loaded, the cache is not
 * found and `trimCaches` does nothing (tests do this; they do not run for hours).
 */
import type * as InkModule from 'ink';

export interface InkRuntime {
  readonly ink: typeof InkModule;
  /** True when the measurement cache was found and is being bounded. */
  readonly isCacheBounded: boolean;
  /** Clears the measurement cache once it holds more than `limit` strings. */
  trimCaches(limit?: number): void;
}

export const MEASURE_CACHE_LIMIT = 4000;

let loaded: Promise<InkRuntime> | undefined;

export function loadInk(): Promise<InkRuntime> {
  loaded ??= load();
  return loaded;
}

async function load(): Promise<InkRuntime> {
  process.env.NODE_ENV ??= 'production';
  const NativeMap = globalThis.Map;
  const created: Array<Map<unknown, unknown>> = [];
  class NotedMap<K, V> extends NativeMap<K, V> {
    constructor(entries?: Iterable<readonly [K, V]> | null) {
      super(entries);
      created.push(this as Map<unknown, unknown>);
    }
  }
  let ink: typeof InkModule;
  globalThis.Map = NotedMap as MapConstructor;
  try {
    ink = await import('ink');
  } finally {
    globalThis.Map = NativeMap;
  }
  const React = await import('react');
  const probe = `pxedeck-measure-probe-${process.pid}-${Date.now()}`;
  ink.renderToString(React.createElement(ink.Text, null, probe), { columns: 200 });
  const cache = created.find((map) => map.has(probe));
  cache?.delete(probe);
  created.length = 0;
  return {
    ink,
    isCacheBounded: cache !== undefined,
    trimCaches(limit = MEASURE_CACHE_LIMIT) {
      if (cache && cache.size > limit) cache.clear();
    },
  };
}
