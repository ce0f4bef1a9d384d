import type { Readable, Writable } from 'node:stream';

/** Where the CLI reads and writes: the process's own streams, or a test's. */
export interface Io {
  stdin: Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
}

export function processIo(): Io {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };
}

/**
 * A secret from the user: typed at a terminal without echo, or the first line of a piped stdin
 * (for scripts: `mosaic login < token-file`). Never echoed, never logged.
 */
export function readSecret(io: Io, prompt: string): Promise<string> {
  const { stdin, stderr } = io;
  return new Promise((resolve, reject) => {
    let value = '';
    const tty = stdin.isTTY === true && typeof stdin.setRawMode === 'function';
    if (tty) {
      stderr.write(prompt);
      stdin.setRawMode!(true);
    }
    stdin.setEncoding('utf8');
    const finish = (error?: Error) => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      if (tty) {
        stdin.setRawMode!(false);
        stderr.write('\n');
      }
      stdin.pause();
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n') return finish();
        if (tty && char === '\u0003') return finish(new Error('cancelled'));
        if (tty && (char === '\u007f' || char === '\b')) value = value.slice(0, -1);
        else value += char;
      }
    };
    const onEnd = () => finish(value === '' ? new Error(`${prompt.replace(/:\s*$/, '')}: nothing on stdin`) : undefined);
    stdin.on('data', onData);
    stdin.on('end', onEnd);
    stdin.resume();
  });
}
