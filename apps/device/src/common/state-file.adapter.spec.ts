import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TempDirs } from '../../../../test/support/device-fixtures';
import { StateFileAdapter } from './state-file.adapter';

describe('StateFileAdapter', () => {
  const dirs = new TempDirs();
  const files = new StateFileAdapter();
  afterEach(() => dirs.cleanup());

  it('reads back what it wrote', async () => {
    const path = join(dirs.make(), 'outbox.json');
    await files.write(path, JSON.stringify([{ key: 'report.apps', payload: { n: 1 } }]));
    expect(files.read(path)).toEqual([{ key: 'report.apps', payload: { n: 1 } }]);
    await files.write(path, '[]');
    expect(files.read(path)).toEqual([]);
  });

  it('answers undefined for a file that does not exist', () => {
    expect(files.read(join(dirs.make(), 'nothing.json'))).toBeUndefined();
  });

  it('creates missing folders, owner-only, and writes the file owner-only', async () => {
    const path = join(dirs.make(), 'state', 'deeper', 'commands.json');
    await files.write(path, '{"a":1}');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(path, '..')).mode & 0o777).toBe(0o700);
  });

  it('leaves no temporary file behind', async () => {
    const dir = dirs.make();
    await files.write(join(dir, 'a.json'), '{"a":1}');
    await files.write(join(dir, 'a.json'), '{"a":2}');
    expect(readdirSync(dir)).toEqual(['a.json']);
    expect(JSON.parse(readFileSync(join(dir, 'a.json'), 'utf8'))).toEqual({ a: 2 });
  });

  it('leaves no temporary file behind when a write fails', async () => {
    const dir = dirs.make();
    mkdirSync(join(dir, 'b.json')); // the rename onto a folder fails, after the temp file was written
    await expect(files.write(join(dir, 'b.json'), '{"b":1}')).rejects.toThrow(/EISDIR|EEXIST|ENOTEMPTY/);
    expect(readdirSync(dir)).toEqual(['b.json']);
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

  it('sets a file larger than it may read aside, unread', () => {
    const dir = dirs.make();
    writeFileSync(join(dir, 'commands.json'), JSON.stringify(['x'.repeat(2000)]));
    expect(files.read(join(dir, 'commands.json'), 1000)).toBeUndefined();
    expect(readdirSync(dir)).toEqual([expect.stringMatching(/^commands\.json\.too-large-\d+$/)]);
  });

  it('lets other read errors through', () => {
    const dir = dirs.make();
    mkdirSync(join(dir, 'a-folder.json'));
    expect(() => files.read(join(dir, 'a-folder.json'))).toThrow(/EISDIR/);
  });
});
