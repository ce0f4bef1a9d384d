import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { ModuleKind, ScriptTarget, transpileModule } from 'typescript';
import { containUnhandledRejections } from './process-guard';

describe('containUnhandledRejections', () => {
  /**
   * Jest keeps unhandled rejections of a test to itself, so the real thing runs in a Node process
   * of its own: this file compiled on the spot, then a promise nobody catches.
   */
  function runNode(install: boolean): Promise<{ status: number | null; output: string }> {
    const guard = transpileModule(readFileSync(join(__dirname, 'process-guard.ts'), 'utf8'), {
      compilerOptions: { module: ModuleKind.CommonJS, target: ScriptTarget.ES2022 },
    }).outputText;
    const script = [
      'const module = { exports: {} }; const exports = module.exports;',
      guard,
      install ? 'exports.containUnhandledRejections({ error: (m, s) => console.log(m + "\\n" + s) });' : '',
      "void Promise.reject(new Error('the state folder is full'));",
      "setTimeout(() => console.log('still running'), 100);",
    ].join('\n');
    return new Promise((resolve) => {
      const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (c: Buffer) => (output += c.toString()));
      child.stderr.on('data', (c: Buffer) => (output += c.toString()));
      child.on('exit', (status) => resolve({ status, output }));
    });
  }

  it('logs a rejection nobody handled, with its stack, and the process carries on', async () => {
    const { status, output } = await runNode(true);
    expect(status).toBe(0);
    expect(output).toMatch(
      /^unhandled promise rejection, contained \(the process keeps running\): the state folder is full\nError: the state folder is full\n\s+at /,
    );
    expect(output).toMatch(/still running\n$/);
  });

  it('(without it, the same process ends with status 1)', async () => {
    const { status, output } = await runNode(false);
    expect(status).toBe(1);
    expect(output).not.toContain('still running');
  });

  it('stops listening once uninstalled', () => {
    const target = new EventEmitter();
    const error = jest.fn();
    const uninstall = containUnhandledRejections({ error }, target);
    expect(target.listenerCount('unhandledRejection')).toBe(1);
    uninstall();
    expect(target.listenerCount('unhandledRejection')).toBe(0);
  });

  it.each([
    ['a string', 'plain words', 'plain words'],
    ['undefined', undefined, 'undefined'],
    ['an object', { code: 'ENOSPC', path: '/state' }, "{ code: 'ENOSPC', path: '/state' }"],
  ])('describes a reason that is not an Error (%s) in one line', (_label, reason, shown) => {
    const target = new EventEmitter();
    const error = jest.fn();
    containUnhandledRejections({ error }, target);
    target.emit('unhandledRejection', reason, Promise.resolve());
    expect(error).toHaveBeenCalledWith(`unhandled promise rejection, contained (the process keeps running): ${shown}`, undefined);
  });

  it('survives a reason whose description throws, and a logger that throws', () => {
    const target = new EventEmitter();
    const hostile = {
      [inspect.custom]() {
        throw new Error('no');
      },
    };
    const write = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      containUnhandledRejections(
        {
          error: () => {
            throw new Error('logger broken');
          },
        },
        target,
      );
      expect(() => target.emit('unhandledRejection', hostile, Promise.resolve())).not.toThrow();
      expect(write).toHaveBeenCalledWith(
        expect.stringMatching(/^unhandled promise rejection, contained \(the process keeps running\): \(a value that cannot be shown\)\n$/),
      );
    } finally {
      write.mockRestore();
    }
  });
});
