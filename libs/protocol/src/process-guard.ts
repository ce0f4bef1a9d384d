import { inspect } from 'node:util';

export interface RejectionLogger {
  error(message: string, stack?: string): void;
}

const PREFIX = 'unhandled promise rejection, contained (the process keeps running)';

function describe(reason: unknown): string {
  try {
    return reason instanceof Error
      ? reason.message
      : typeof reason === 'string'
        ? reason
        : inspect(reason, { depth: 2, breakLength: Infinity });
  } catch {
    return '(a value that cannot be shown)';
  }
}

/**
 * A promise that rejects with nobody to hear it ends a Node process by default. A service that
 * keeps apps, volumes or devices going must not stop for one forgotten `catch`: the rejection is
 * logged (one line and its stack) and the process carries on. Returns a function that removes it.
 */
export function containUnhandledRejections(logger: RejectionLogger, target: Pick<NodeJS.EventEmitter, 'on' | 'off'> = process): () => void {
  const contain = (reason: unknown): void => {
    const line = `${PREFIX}: ${describe(reason)}`;
    let stack: string | undefined;
    try {
      stack = reason instanceof Error ? reason.stack : undefined;
    } catch {
      stack = undefined;
    }
    try {
      logger.error(line, stack);
    } catch {
      // The logger itself failed: stderr is the last place left to say it.
      process.stderr.write(`${line}\n`);
    }
  };
  target.on('unhandledRejection', contain);
  return () => target.off('unhandledRejection', contain);
}
