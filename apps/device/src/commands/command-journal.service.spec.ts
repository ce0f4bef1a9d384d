import { Logger } from '@nestjs/common';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FakeClock, TempDirs, deviceConfig } from '../../../../test/support/device-fixtures';
import { StateFileAdapter } from '../common/state-file.adapter';
import { CommandJournalService, JOURNAL_KEEP_COUNT, JOURNAL_KEEP_MS, StoredResult } from './command-journal.service';

const NOW = '2026-11-25T10:00:00.000Z';
const id = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
const result = (n: number, finishedAt = NOW): StoredResult => ({ id: id(n), type: 'SystemCommand.info', ok: true, result: {}, finishedAt });

describe('CommandJournalService', () => {
  const dirs = new TempDirs();
  let stateDir: string;
  let clock: FakeClock;

  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(() => {
    stateDir = dirs.make();
    clock = new FakeClock(NOW);
  });
  afterEach(() => dirs.cleanup());

  function journal(): CommandJournalService {
    const service = new CommandJournalService(deviceConfig({ stateDir }), new StateFileAdapter(), clock.asClock());
    service.onModuleInit();
    return service;
  }

  /** A journal file as an earlier run would have left it. */
  function seed(entries: Array<{ id: string; type: string; receivedAt: string; result?: StoredResult }>): void {
    writeFileSync(join(stateDir, 'commands.json'), JSON.stringify(entries));
  }

  it('keeps what begin() and finish() record in STATE_DIR/commands.json', () => {
    const j = journal();
    j.begin(id(1), 'SystemCommand.info');
    expect(j.find(id(1))).toEqual({ id: id(1), type: 'SystemCommand.info', receivedAt: NOW });
    j.finish(result(1));
    expect(j.find(id(1))?.result).toEqual(result(1));
    expect(JSON.parse(readFileSync(join(stateDir, 'commands.json'), 'utf8'))).toEqual([
      { id: id(1), type: 'SystemCommand.info', receivedAt: NOW, result: result(1) },
    ]);
  });

  it('ignores finish() for an id it never saw', () => {
    const j = journal();
    j.finish(result(9));
    expect(j.find(id(9))).toBeUndefined();
    expect(j.size).toBe(0);
  });

  it('reads the journal of an earlier run', () => {
    const first = journal();
    first.begin(id(1), 'SystemCommand.info');
    first.finish(result(1));
    const second = journal();
    expect(second.find(id(1))?.result).toEqual(result(1));
    expect(second.unfinished).toEqual([]);
  });

  it('lists entries without a result as unfinished; interrupt() ends one INTERNAL and saves it', () => {
    seed([
      { id: id(1), type: 'SchedulerAction.start', receivedAt: NOW },
      { id: id(2), type: 'SystemCommand.info', receivedAt: NOW, result: result(2) },
    ]);
    clock.advance(1000);
    const j = journal();
    expect(j.unfinished).toEqual([{ id: id(1), type: 'SchedulerAction.start' }]);
    const failed = {
      id: id(1),
      type: 'SchedulerAction.start',
      ok: false,
      error: { code: 'INTERNAL', message: 'The device restarted while this command was running.' },
      finishedAt: '2026-11-25T10:00:01.000Z',
    };
    expect(j.interrupt(id(1))).toEqual(failed);
    expect(j.find(id(1))?.result).toEqual(failed);
    expect(journal().unfinished).toEqual([]); // written back: the next start does not report it again
  });

  it('starts empty without a file, and sets a corrupt file aside', () => {
    expect(journal().size).toBe(0);
    writeFileSync(join(stateDir, 'commands.json'), '{"half a file');
    const j = journal();
    expect(j.size).toBe(0);
    expect(readdirSync(stateDir).some((name) => name.startsWith('commands.json.corrupt-'))).toBe(true);
    j.begin(id(1), 'SystemCommand.info');
    expect(existsSync(join(stateDir, 'commands.json'))).toBe(true);
  });

  it('skips entries that are not journal entries', () => {
    writeFileSync(join(stateDir, 'commands.json'), JSON.stringify([null, 7, { id: 5 }, { id: id(1), type: 'SystemCommand.info', receivedAt: NOW, result: result(1) }]));
    const j = journal();
    expect(j.size).toBe(1);
    expect(j.find(id(1))).toBeDefined();
  });

  describe('how much it remembers (§2: at least the last 1,000 ids or 24 hours)', () => {
    const old = new Date(Date.parse(NOW) - JOURNAL_KEEP_MS - 1).toISOString();

    it('forgets finished ids older than 24 h beyond the newest 1,000', () => {
      const extra = 50;
      seed(Array.from({ length: JOURNAL_KEEP_COUNT + extra }, (_, n) => ({ id: id(n), type: 'SystemCommand.info', receivedAt: old, result: result(n, old) })));
      const j = journal();
      j.begin(id(99_999), 'SystemCommand.info');
      expect(j.size).toBe(JOURNAL_KEEP_COUNT);
      expect(j.find(id(0))).toBeUndefined();
      expect(j.find(id(extra))).toBeUndefined();
      expect(j.find(id(extra + 1))).toBeDefined();
      expect(j.find(id(99_999))).toBeDefined();
    });

    it('keeps every id younger than 24 h, even beyond 1,000', () => {
      const recent = new Date(Date.parse(NOW) - JOURNAL_KEEP_MS + 60_000).toISOString();
      seed(Array.from({ length: JOURNAL_KEEP_COUNT + 50 }, (_, n) => ({ id: id(n), type: 'SystemCommand.info', receivedAt: recent, result: result(n, recent) })));
      const j = journal();
      j.begin(id(99_999), 'SystemCommand.info');
      expect(j.size).toBe(JOURNAL_KEEP_COUNT + 51);
      expect(j.find(id(0))).toBeDefined();
    });

    it('keeps the newest 1,000 ids however old they are', () => {
      seed(Array.from({ length: 10 }, (_, n) => ({ id: id(n), type: 'SystemCommand.info', receivedAt: old, result: result(n, old) })));
      const j = journal();
      j.begin(id(99_999), 'SystemCommand.info');
      expect(j.size).toBe(11);
    });
  });
});
