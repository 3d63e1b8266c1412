/**
 * The composition root: picks what a command line asks for — a one-shot subcommand, the headless event
 * stream, or the Ink console — and hands it the runtime (src/runtime/start-runtime.ts wires the servers).
 */
import { join } from 'node:path';
import { createConsoleFeed } from '../components/model/console-feed.js';
import type { RunningServers, RuntimeConfig } from '../components/model/server-control.js';
import { runConsole } from '../components/run-console.js';
import { parseCli, usage, UsageError, type CliOptions } from './cli/args.js';
import { assignUsage, runAssign, runExplain } from './cli/commands.js';
import { formatEventJson } from './cli/event-log.js';
import { runReport } from './cli/report.js';
import type { PxedeckEvent } from './servers/events.js';
import { scanBootFiles } from './servers/boot-files.js';
import { openAssignments } from './state/assignments.js';
import { createBootPlanner } from './state/boot-plans.js';
import { openClientPolicies } from './state/client-policies.js';
import { loadProfileLibrary } from './state/profile-library.js';
import { openSettings, parseTargetSetting } from './state/settings.js';
import { isOperatorError } from './runtime/operator-error.js';
import { dataDirOf, defaultDataDir, defaultTargetOf, loadSettings, presetsDir } from './runtime/runtime-settings.js';
import { httpBaseOf, servedAddressOrAny, servedInterface } from './runtime/served-interface.js';
import { startRuntime, type Runtime } from './runtime/start-runtime.js';

export { startRuntime, type Runtime } from './runtime/start-runtime.js';

/** One-shot subcommands that need only the data dir, never a socket. */
function runSubcommand(name: 'assign' | 'explain', argv: readonly string[]): number {
  const dataDirAt = argv.indexOf('--data-dir');
  const dataDir = dataDirOf(dataDirAt >= 0 ? { dataDir: argv[dataDirAt + 1] ?? '' } : {});
  const rest = dataDirAt >= 0 ? [...argv.slice(0, dataDirAt), ...argv.slice(dataDirAt + 2)] : [...argv];
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(name === 'assign' ? assignUsage : 'Usage: pxedeck explain --mac MAC [--arch N] [--user-class iPXE] [--data-dir DIR]\n');
    return 0;
  }
  const library = loadProfileLibrary(presetsDir, [dataDir]);
  const assignments = openAssignments(dataDir);
  if (name === 'assign') {
    process.stdout.write(`${runAssign(rest, assignments, library)}\n`);
    return 0;
  }
  const settings = openSettings(dataDir).load();
  const address = settings.interface ? servedAddressOrAny(settings.interface) : '0.0.0.0';
  const serverBase = httpBaseOf(address, settings.httpPort);
  const planner = createBootPlanner({
    serverBase,
    library: () => library,
    assignments,
    policies: openClientPolicies(dataDir),
    defaultTarget: parseTargetSetting(settings.defaultTarget)!,
  });
  const binaries = scanBootFiles(settings.bootDir ?? join(dataDir, 'boot')).names;
  process.stdout.write(`${runExplain(rest, { planner, serverAddress: address, mode: settings.mode, serverBase, binaries })}\n`);
  return 0;
}

/**
 * A terminal run: the Ink console. Its feed (a registry of its own) outlives the servers, so applying
 * settings restarts them while every machine keeps its record; settings changed in the console beat the
 * flags they replaced (`savedWins`).
 */
async function runConsoleMode(cli: CliOptions): Promise<number> {
  const feed = createConsoleFeed();
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
      start: () => startRuntime(flags, feed.observe, feed.registry),
    };
  };
  let initial: { config: RuntimeConfig; servers: RunningServers };
  try {
    const config = configure(new Set());
    initial = { config, servers: await config.start() };
  } catch (error) {
    if (isOperatorError(error)) {
      process.stderr.write(`pxedeck: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
  await runConsole({ feed, dataDir: dataDirOf(cli), presetsDir, configure, initial });
  return 0;
}

/** Headless: one JSON object per event on stdout until SIGINT or SIGTERM. */
async function runHeadless(cli: CliOptions): Promise<number> {
  const print = (event: PxedeckEvent) => process.stdout.write(`${formatEventJson(event)}\n`);
  let runtime: Runtime;
  try {
    runtime = await startRuntime(cli, print);
  } catch (error) {
    if (isOperatorError(error)) {
      process.stderr.write(`pxedeck: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await runtime.close();
  return 0;
}

export async function main(argv: readonly string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === 'report') {
    try {
      const result = await runReport(rest, defaultDataDir);
      (result.exitCode === 0 ? process.stdout : process.stderr).write(`${result.output}\n`);
      return result.exitCode;
    } catch (error) {
      if (error instanceof UsageError) {
        process.stderr.write(`pxedeck report: ${error.message}\n`);
        return 2;
      }
      throw error;
    }
  }
  if (first === 'assign' || first === 'explain') {
    try {
      return runSubcommand(first, rest);
    } catch (error) {
      if (isOperatorError(error) || (error instanceof Error && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
        process.stderr.write(`pxedeck ${first}: ${error.message}\n`);
        return 2;
      }
      throw error;
    }
  }
  let cli: CliOptions;
  try {
    cli = parseCli(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`pxedeck: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  if (cli.help) {
    process.stdout.write(usage);
    return 0;
  }
  return !cli.headless && process.stdout.isTTY ? runConsoleMode(cli) : runHeadless(cli);
}
