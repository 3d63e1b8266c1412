/**
 * pxedeck's data dir holds the control API's token, leases, assignments and every machine's history: only
 * its owner may read it. Directories pxedeck makes there are created 0700 and files it writes 0600
 * (src/runtime/data-dir.ts tightens what an older version left looser, on start).
 */
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;
