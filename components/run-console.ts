/**
 * Starts the Ink console on the terminal for a running pxedeck and returns when the operator quits: the
 * servers are closed first (the console shows "stopping the servers…"), then Ink exits and the terminal
 * comes back as it was (alternate screen left, cursor shown, raw mode off). Ink, React and the app are
 * loaded here, through loadInk (see ink-runtime.ts), never by a static import.
 */
import { openOperator } from '../src/state/operator.js';
import { loadInk } from './ink-runtime.js';
import type { ConsoleFeed } from './model/console-feed.js';
import { preloadVendors } from './model/oui-vendor.js';
import { createServerControl, type Configure, type RunningServers, type RuntimeConfig } from './model/server-control.js';

export interface RunConsoleOptions {
  readonly feed: ConsoleFeed;
  readonly dataDir: string;
  readonly presetsDir: string;
  /** --iso files, shown in the profile picker with the ISOs found in the boot directory and isos/. */
  readonly isoFiles?: readonly string[];
  /** Turns saved settings (and the flags that still win) into a startable runtime: used when settings are applied. */
  readonly configure: Configure;
  /** The configuration and servers already running when the console starts. */
  readonly initial: { readonly config: RuntimeConfig; readonly servers: RunningServers };
  readonly stdout?: NodeJS.WriteStream;
  readonly stdin?: NodeJS.ReadStream;
  /**
   * Settles with the error that stopped the servers for good (their thread crashed): the console closes as on
   * a signal, and runConsole rejects with it once the terminal is back as it was.
   */
  readonly serversFailed?: Promise<Error>;
}

const ENTER_ALTERNATE_SCREEN = '\u001B[?1049h\u001B[H';
const LEAVE_ALTERNATE_SCREEN = '\u001B[?1049l';

/** How Ink draws the console; the bench uses the same. */
export const consoleRenderOptions = { exitOnCtrlC: false, patchConsole: true, incrementalRendering: false } as const;

export async function runConsole(options: RunConsoleOptions): Promise<void> {
  const stdout = options.stdout ?? process.stdout;
  const { ink, trimCaches } = await loadInk();
  const React = await import('react');
  const { ConsoleRoot } = await import('./ConsoleApp.js');
  preloadVendors();
  const { config } = options.initial;
  const operator = openOperator({ dataDir: options.dataDir, presetsDir: options.presetsDir, ...(options.isoFiles && { isoFiles: options.isoFiles }), serverBase: config.serverBase, defaultTarget: config.defaultTarget });
  const control = createServerControl({
    dataDir: options.dataDir,
    configure: options.configure,
    initial: options.initial,
    onConfig: (next) => operator.reconfigure({ serverBase: next.serverBase, defaultTarget: next.defaultTarget }),
  });
  // A terminal that goes away (SSH dropped) fails writes with EIO: the servers must still close cleanly.
  const ignoreWriteError = () => undefined;
  stdout.on('error', ignoreWriteError);
  stdout.write(ENTER_ALTERNATE_SCREEN);
  const app = ink.render(React.createElement(ConsoleRoot, { feed: options.feed, operator, control }), {
    ...consoleRenderOptions,
    stdout,
    ...(options.stdin && { stdin: options.stdin }),
    onRender: () => trimCaches(),
  });
  // A signal from outside (systemd, a closing SSH session) takes the same way out as `q`.
  const onSignal = () => {
    void control.shutdown().finally(() => app.unmount());
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const signal of signals) process.on(signal, onSignal);
  let failure: Error | undefined;
  void options.serversFailed?.then((error) => {
    failure = error;
    onSignal();
  });
  try {
    await app.waitUntilExit();
  } finally {
    for (const signal of signals) process.off(signal, onSignal);
    await control.shutdown();
    operator.close();
    // The error listener stays: a write to a vanished terminal fails after this function has returned.
    stdout.write(LEAVE_ALTERNATE_SCREEN);
  }
  if (failure) throw failure;
}
