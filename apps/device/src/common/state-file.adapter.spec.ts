import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TempDirs } from '../../../../test/support/device-fixtures';
import { StateFileAdapter } from './state-file.adapter';

describe('StateFileAdapter', () => {
  const dirs = new TempDirs();
  const files = new StateFileAdapter();
  afterEach(() => dirs.cleanup());

  it('reads back what it wrote', () => {
    const path = join(dirs.make(), 'outbox.json');
    files.write(path, [{ key: 'report.apps', payload: { n: 1 } }]);
    expect(files.read(path)).toEqual([{ key: 'report.apps', payload: { n: 1 } }]);
    files.write(path, []);
    expect(files.read(path)).toEqual([]);
  });

  it('answers undefined for a file that does not exist', () => {
    expect(files.read(join(dirs.make(), 'nothing.json'))).toBeUndefined();
  });

  it('creates missing folders, owner-only, and writes the file owner-only', () => {
    const path = join(dirs.make(), 'state', 'deeper', 'commands.json');
    files.write(path, { a: 1 });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(path, '..')).mode & 0o777).toBe(0o700);
  });

  it('leaves no temporary file behind', () => {
    const dir = dirs.make();
    files.write(join(dir, 'a.json'), { a: 1 });
    files.write(join(dir, 'a.json'), { a: 2 });
    expect(readdirSync(dir)).toEqual(['a.json']);
    expect(JSON.parse(readFileSync(join(dir, 'a.json'), 'utf8'))).toEqual({ a: 2 });
  });

  it('sets a corrupt file aside and answers undefined', () => {
    const dir = dirs.make();
    writeFileSync(join(dir, 'outbox.json'), '[{"key":');
    expect(files.read(join(dir, 'outbox.json'))).toBeUndefined();
    const names = readdirSync(dir);
    expect(names).toHaveLength(1);
    expect(names[0]).toMatch(/^outbox\.json\.corrupt-\d+$/);
    expect(readFileSync(join(dir, names[0]), 'utf8')).toBe('[{"key":');
  });

  it('lets other read errors through', () => {
    const dir = dirs.make();
    mkdirSync(join(dir, 'a-folder.json'));
    expect(() => files.read(join(dir, 'a-folder.json'))).toThrow(/EISDIR/);
  });
});
