/**
 * The composition root: picks what a command line asks for — a one-shot subcommand, the headless event
 * stream, or the Ink console — and hands it the runtime (src/runtime/start-runtime.ts wires the servers).
 * Everything but the argument parser is imported when it is needed, so `pxedeck --help` answers at once.
 */
import { parseCli, usage, UsageError, type CliOptions } from './cli/args.js';
import type { RunningServers, RuntimeConfig } from '../components/model/server-control.js';
import type { Runtime } from './runtime/start-runtime.js';

/** Prints an error the operator can fix as one line and returns `code`; anything else is a bug and rethrown. */
async function operatorFailure(error: unknown, prefix: string, code: number): Promise<number> {
  const { isOperatorError } = await import('./runtime/operator-error.js');
  const isParseError = error instanceof Error && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS');
  if (!isOperatorError(error) && !isParseError) throw error;
  process.stderr.write(`${prefix}: ${(error as Error).message}\n`);
  return code;
}

/**
 * A terminal run: the Ink console. Its feed (a registry of its own) outlives the servers, so applying
 * settings restarts them while every machine keeps its record; settings changed in the console beat the
 * flags they replaced (`savedWins`).
 */
async function runConsoleMode(cli: CliOptions): Promise<number> {
  const [{ createConsoleFeed }, { runConsole }, { createRuntimeThread }, { dataDirOf, defaultTargetOf, loadSettings, presetsDir }, { httpBaseOf, servedInterface }, { tuneCollectorForServing }, { preloadVendors }] =
    await Promise.all([
      import('../components/model/console-feed.js'),
      import('../components/run-console.js'),
      import('./runtime/runtime-thread.js'),
      import('./runtime/runtime-settings.js'),
      import('./runtime/served-interface.js'),
      import('./runtime/collector-tuning.js'),
      import('../components/model/oui-vendor.js'),
    ]);
  tuneCollectorForServing('console');
  const feed = createConsoleFeed();
  // The servers run on a thread of their own (runtime-thread.ts): a frame never delays an answer.
  // A crash of that thread is kept for the trace below and settles `failed`, which closes the console.
  let crash: Error | undefined;
  let onCrash!: (error: Error) => void;
  const failed = new Promise<Error>((resolve) => (onCrash = (error) => resolve((crash = error))));
  const runtimeThread = createRuntimeThread((event, stored) => feed.apply(event, stored), { onCrash });
  const configure = (savedWins: ReadonlySet<string>): RuntimeConfig => {
    const flags = Object.fromEntries(Object.entries(cli).filter(([key]) => !savedWins.has(key))) as unknown as CliOptions;
    const settings = loadSettings(flags);
    const served = servedInterface(settings.interface);
    return {
      settings,
      flagged: ['interface', 'mode', 'pool', 'bootDir', 'httpPort'].filter((key) => key in flags),
      interfaceName: served.name,
      serverAddress: served.serverAddress,
      serverBase: httpBaseOf(served.serverAddress, settings.httpPort),
      defaultTarget: defaultTargetOf(flags, settings),
      start: () => runtimeThread.start(flags),
    };
  };
  let initial: { config: RuntimeConfig; servers: RunningServers };
  try {
    const config = configure(new Set());
    const starting = config.start();
    // The vendor table takes ~0.5 s to load: on this thread while the servers' thread starts, not while the
    // first frame waits. Nothing here can see the start fail before the await, so its rejection is handled.
    preloadVendors();
    initial = { config, servers: await starting };
  } catch (error) {
    return operatorFailure(error, 'pxedeck', 1);
  }
  try {
    await runConsole({ feed, dataDir: dataDirOf(cli), presetsDir, ...(cli.iso && { isoFiles: [cli.iso] }), configure, initial, serversFailed: failed });
  } catch (error) {
    if (!crash || error !== crash) throw error;
    // A bug: the terminal is back as it was, so the trace is readable and the machines' record is in the event log.
    process.stderr.write(`pxedeck: the servers stopped on an error, a bug in pxedeck (please report it with this trace; \`pxedeck report MAC\` still tells each machine's session):\n${crash.stack ?? crash.message}\n`);
    return 1;
  }
  return 0;
}

/** Headless: one JSON object per event on stdout until SIGINT or SIGTERM. */
async function runHeadless(cli: CliOptions): Promise<number> {
  const [{ startRuntime }, { openStdoutPrinter }, { tuneCollectorForServing }] = await Promise.all([
    import('./runtime/start-runtime.js'),
    import('./cli/json-lines.js'),
    import('./runtime/collector-tuning.js'),
  ]);
  tuneCollectorForServing('headless');
  const printer = openStdoutPrinter();
  // Listened for before the start: a stop asked while the servers open (a service manager, a test that saw
  // DHCP listening) closes them once open, instead of killing the process half-way with its sockets held.
  const stopAsked = new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  let runtime: Runtime;
  try {
    runtime = await startRuntime(cli, (_event, serialised) => printer.print(serialised.line));
  } catch (error) {
    await printer.close();
    return operatorFailure(error, 'pxedeck', 1);
  }
  await stopAsked;
  await runtime.close();
  await printer.close();
  return 0;
}

export async function main(argv: readonly string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === 'report') {
    const [{ runReport }, { defaultDataDir }] = await Promise.all([import('./cli/report.js'), import('./runtime/runtime-settings.js')]);
    try {
      const result = await runReport(rest, defaultDataDir);
      (result.exitCode === 0 ? process.stdout : process.stderr).write(`${result.output}\n`);
      return result.exitCode;
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      process.stderr.write(`pxedeck report: ${error.message}\n`);
      return 2;
    }
  }
  if (first === 'assign' || first === 'explain') {
    const { runSubcommand } = await import('./cli/subcommands.js');
    try {
      return await runSubcommand(first, rest);
    } catch (error) {
      return operatorFailure(error, `pxedeck ${first}`, 2);
    }
  }
  let cli: CliOptions;
  try {
    cli = parseCli(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`pxedeck: ${error.message}\n`);
    return 2;
  }
  if (cli.help) {
    process.stdout.write(usage);
    return 0;
  }
  return !cli.headless && process.stdout.isTTY ? runConsoleMode(cli) : runHeadless(cli);
}
