import { Injectable } from '@nestjs/common';
import { execFile } from 'node:child_process';

/**
 * Runs a program of the device's own (a constant of its source, never anything received) in a
 * fresh Node process on this machine: `node -e <source> ...args`, without a shell and with an
 * empty environment.
 */
@Injectable()
export class LocalNodeAdapter {
  run(source: string, args: string[], timeoutMs: number): Promise<{ exitCode: number; output: string }> {
    return new Promise((resolve, reject) => {
      execFile(
        process.execPath,
        ['-e', source, ...args],
        { env: {}, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 },
        (err, stdout) => {
          // A non-zero exit is an answer (its code is a number); a timeout or a failed spawn is not.
          const code: unknown = err?.code;
          if (err && typeof code !== 'number') return reject(err);
          resolve({ exitCode: typeof code === 'number' ? code : 0, output: stdout });
        },
      );
    });
  }
}
