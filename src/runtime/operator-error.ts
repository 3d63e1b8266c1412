/**
 * Errors the operator can fix (a flag, a setting, a busy port): printed as one line without a stack trace.
 */
import { UsageError } from '../cli/args.js';
import { InterfaceChoiceError } from '../servers/net/interfaces.js';
import { SocketOpenError } from '../servers/net/socket-open-error.js';
import { ConfigFileError } from '../state/conf-file.js';

/** A startup problem the operator can fix; printed without a stack trace. */
export class StartupError extends Error {}

export function isOperatorError(error: unknown): error is Error {
  return (
    error instanceof StartupError ||
    error instanceof ConfigFileError ||
    error instanceof InterfaceChoiceError ||
    error instanceof SocketOpenError ||
    error instanceof UsageError
  );
}
