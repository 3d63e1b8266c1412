/** Opens one conf-backed JSON file in the data dir, turning unreadable files into errors that say the fix. */
import Conf from 'conf';
import { PRIVATE_FILE_MODE } from '../servers/files/private-files.js';

export class ConfigFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigFileError';
  }
}

export function openConfFile<T extends Record<string, unknown>>(dataDir: string, name: string, defaults: T): Conf<T> {
  try {
    return new Conf<T>({ cwd: dataDir, configName: name, projectName: 'pxedeck', defaults, clearInvalidConfig: false, accessPropertiesByDotNotation: false, configFileMode: PRIVATE_FILE_MODE });
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new ConfigFileError(`${dataDir}/${name}.json cannot be read (${detail}); fix: correct the JSON or delete the file to start from defaults`);
  }
}
