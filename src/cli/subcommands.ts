/**
 * `pxedeck assign` and `pxedeck explain`: one-shot subcommands that need only the data dir, never a socket.
 */
import { join, resolve } from 'node:path';
import { scanBootFiles } from '../servers/boot-files.js';
import { openAssignments } from '../state/assignments.js';
import { createBootPlanner } from '../state/boot-plans.js';
import { openClientPolicies } from '../state/client-policies.js';
import { openIsoLibrary } from '../state/iso-library.js';
import { loadProfileLibrary } from '../state/profile-library.js';
import { openSettings, parseTargetSetting } from '../state/settings.js';
import { makeDataDirPrivate } from '../runtime/data-dir.js';
import { dataDirOf, presetsDir } from '../runtime/runtime-settings.js';
import { httpBaseOf, servedAddressOrAny } from '../runtime/served-interface.js';
import { assignUsage, runAssign, runExplain } from './commands.js';

const explainUsage = 'Usage: pxedeck explain --mac MAC [--arch N] [--user-class iPXE] [--data-dir DIR]\n';

/** Runs `name` with its arguments; the output goes to stdout. Returns the exit code. */
export async function runSubcommand(name: 'assign' | 'explain', argv: readonly string[]): Promise<number> {
  const dataDirAt = argv.indexOf('--data-dir');
  const dataDir = dataDirOf(dataDirAt >= 0 ? { dataDir: argv[dataDirAt + 1] ?? '' } : {});
  const rest = dataDirAt >= 0 ? [...argv.slice(0, dataDirAt), ...argv.slice(dataDirAt + 2)] : [...argv];
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(name === 'assign' ? assignUsage : explainUsage);
    return 0;
  }
  for (const message of makeDataDirPrivate(dataDir)) process.stderr.write(`pxedeck ${name}: ${message}\n`);
  const settings = openSettings(dataDir).load();
  const bootDir = resolve(settings.bootDir ?? join(dataDir, 'boot'));
  // ISOs in the boot directory and isos/ are profiles too: read them (metadata only, a few ms each).
  const isos = openIsoLibrary({ dataDir, bootDir, bootFiles: () => scanBootFiles(bootDir).names });
  let library;
  try {
    await isos.refresh();
    library = isos.merge(loadProfileLibrary(presetsDir, [dataDir]));
  } finally {
    await isos.close();
  }
  const assignments = openAssignments(dataDir);
  if (name === 'assign') {
    process.stdout.write(`${runAssign(rest, assignments, library, openClientPolicies(dataDir))}\n`);
    return 0;
  }
  const address = settings.interface ? servedAddressOrAny(settings.interface) : '0.0.0.0';
  const serverBase = httpBaseOf(address, settings.httpPort);
  const planner = createBootPlanner({
    serverBase,
    library: () => library,
    assignments,
    policies: openClientPolicies(dataDir),
    defaultTarget: parseTargetSetting(settings.defaultTarget)!,
  });
  const binaries = scanBootFiles(bootDir).names;
  process.stdout.write(`${runExplain(rest, { planner, serverAddress: address, mode: settings.mode, serverBase, binaries })}\n`);
  return 0;
}
