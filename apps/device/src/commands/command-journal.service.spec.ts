import { Logger } from '@nestjs/common';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FakeClock, TempDirs, deviceConfig, stateStore } from '../../../../test/support/device-fixtures';
import { COMMAND_CONTRACT, CommandType, validatePayload } from '@mosaic/protocol';
import {
  CommandJournalService,
  JOURNAL_KEEP_COUNT,
  JOURNAL_KEEP_MS,
  JOURNAL_MAX,
  JOURNAL_MAX_BYTES,
  JOURNAL_RESULT_MAX_BYTES,
  StoredResult,
} from './command-journal.service';

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
  afterEach(async () => {
    await last?.flushed();
    last = undefined;
    dirs.cleanup();
  });

  let last: CommandJournalService | undefined;

  /** A journal over STATE_DIR, once the one made before has written what it holds (a restart). */
  async function journal(): Promise<CommandJournalService> {
    await last?.flushed();
    const service = new CommandJournalService(stateStore(deviceConfig({ stateDir }), clock.asClock()), clock.asClock());
    service.onModuleInit();
    last = service;
    return service;
  }

  /** A journal file as an earlier run would have left it. */
  function seed(entries: Array<{ id: string; type: string; receivedAt: string; result?: StoredResult }>): void {
    writeFileSync(join(stateDir, 'commands.json'), JSON.stringify(entries));
  }

  it('keeps what begin() and finish() record in STATE_DIR/commands.json', async () => {
    const j = await journal();
    j.begin(id(1), 'SystemCommand.info');
    expect(j.find(id(1))).toEqual({ id: id(1), type: 'SystemCommand.info', receivedAt: NOW });
    j.finish(result(1));
    expect(j.find(id(1))?.result).toEqual(result(1));
    await j.flushed();
    expect(JSON.parse(readFileSync(join(stateDir, 'commands.json'), 'utf8'))).toEqual([
      { id: id(1), type: 'SystemCommand.info', receivedAt: NOW, result: result(1) },
    ]);
  });

  it('ignores finish() for an id it never saw', async () => {
    const j = await journal();
    j.finish(result(9));
    expect(j.find(id(9))).toBeUndefined();
    expect(j.size).toBe(0);
  });

  it('reads the journal of an earlier run', async () => {
    const first = await journal();
    first.begin(id(1), 'SystemCommand.info');
    first.finish(result(1));
    const second = await journal();
    expect(second.find(id(1))?.result).toEqual(result(1));
    expect(second.unfinished).toEqual([]);
  });

  it('lists entries without a result as unfinished; interrupt() ends one INTERNAL and saves it', async () => {
    seed([
      { id: id(1), type: 'SchedulerAction.start', receivedAt: NOW },
      { id: id(2), type: 'SystemCommand.info', receivedAt: NOW, result: result(2) },
    ]);
    clock.advance(1000);
    const j = await journal();
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
    expect((await journal()).unfinished).toEqual([]); // written back: the next start does not report it again
  });

  it('keeps the lock a running command holds, for the restart that may cut it off, and drops it with the result', async () => {
    const j = await journal();
    j.begin(id(1), 'SchedulerAction.prepare', 'instance-1');
    j.begin(id(2), 'SystemCommand.info');
    expect(j.find(id(1))).toEqual({ id: id(1), type: 'SchedulerAction.prepare', receivedAt: NOW, lock: 'instance-1' });
    const cutOff = await journal();
    expect(cutOff.unfinished).toEqual([
      { id: id(1), type: 'SchedulerAction.prepare', lock: 'instance-1' },
      { id: id(2), type: 'SystemCommand.info' },
    ]);
    cutOff.interrupt(id(1));
    expect(cutOff.find(id(1))).not.toHaveProperty('lock');
    await cutOff.flushed();
    expect(JSON.parse(readFileSync(join(stateDir, 'commands.json'), 'utf8'))[0]).not.toHaveProperty('lock');
  });

  it('starts empty without a file, and sets a corrupt file aside', async () => {
    expect((await journal()).size).toBe(0);
    writeFileSync(join(stateDir, 'commands.json'), '{"half a file');
    const j = await journal();
    expect(j.size).toBe(0);
    expect(readdirSync(stateDir).some((name) => name.startsWith('commands.json.corrupt-'))).toBe(true);
    j.begin(id(1), 'SystemCommand.info');
    await j.flushed();
    expect(existsSync(join(stateDir, 'commands.json'))).toBe(true);
  });

  it('skips entries that are not journal entries', async () => {
    writeFileSync(join(stateDir, 'commands.json'), JSON.stringify([null, 7, { id: 5 }, { id: id(1), type: 'SystemCommand.info', receivedAt: NOW, result: result(1) }]));
    const j = await journal();
    expect(j.size).toBe(1);
    expect(j.find(id(1))).toBeDefined();
  });

  describe('how much it remembers (§2: at least the last 1,000 ids or 24 hours)', () => {
    const old = new Date(Date.parse(NOW) - JOURNAL_KEEP_MS - 1).toISOString();

    it('forgets finished ids older than 24 h beyond the newest 1,000', async () => {
      const extra = 50;
      seed(Array.from({ length: JOURNAL_KEEP_COUNT + extra }, (_, n) => ({ id: id(n), type: 'SystemCommand.info', receivedAt: old, result: result(n, old) })));
      const j = await journal();
      j.begin(id(99_999), 'SystemCommand.info');
      expect(j.size).toBe(JOURNAL_KEEP_COUNT);
      expect(j.find(id(0))).toBeUndefined();
      expect(j.find(id(extra))).toBeUndefined();
      expect(j.find(id(extra + 1))).toBeDefined();
      expect(j.find(id(99_999))).toBeDefined();
    });

    it('keeps every id younger than 24 h, even beyond 1,000', async () => {
      const recent = new Date(Date.parse(NOW) - JOURNAL_KEEP_MS + 60_000).toISOString();
      seed(Array.from({ length: JOURNAL_KEEP_COUNT + 50 }, (_, n) => ({ id: id(n), type: 'SystemCommand.info', receivedAt: recent, result: result(n, recent) })));
      const j = await journal();
      j.begin(id(99_999), 'SystemCommand.info');
      expect(j.size).toBe(JOURNAL_KEEP_COUNT + 51);
      expect(j.find(id(0))).toBeDefined();
    });

    it('keeps the newest 1,000 ids however old they are', async () => {
      seed(Array.from({ length: 10 }, (_, n) => ({ id: id(n), type: 'SystemCommand.info', receivedAt: old, result: result(n, old) })));
      const j = await journal();
      j.begin(id(99_999), 'SystemCommand.info');
      expect(j.size).toBe(11);
    });
  });

  describe('bounds: entries, bytes, long results (issue 10)', () => {
    const recent = new Date(Date.parse(NOW) - 60_000).toISOString();
    const appResult = (n: number, stdout: string, stderr = ''): StoredResult => ({
      id: id(n),
      type: CommandType.AppCommandRun,
      ok: true,
      result: { exitCode: 0, stdout, stderr, truncated: false },
      finishedAt: NOW,
    });

    it('keeps a long result cut to JOURNAL_RESULT_MAX_BYTES, marked, and still a valid result of its type', async () => {
      const j = await journal();
      j.begin(id(1), CommandType.AppCommandRun);
      const output = 'line of output\n'.repeat(8000); // 120 KB, as an app command may print
      j.finish(appResult(1, output, 'warning\n'.repeat(8000)));
      const kept = j.find(id(1))!;
      expect(Buffer.byteLength(JSON.stringify(kept.result))).toBeLessThanOrEqual(JOURNAL_RESULT_MAX_BYTES);
      expect(kept.cut).toBe(true);
      const result = kept.result!.result as { stdout: string; stderr: string; truncated: boolean; exitCode: number };
      expect(result.truncated).toBe(true);
      expect(result.exitCode).toBe(0);
      expect(output.startsWith(result.stdout.replace(/…\[mosaic: .*$/, ''))).toBe(true);
      expect(result.stdout).toMatch(/…\[mosaic: \d+ more characters not kept in the command journal\]$/);
      expect(validatePayload(COMMAND_CONTRACT[CommandType.AppCommandRun].result, result).ok).toBe(true);
      await j.flushed();
      expect((await journal()).find(id(1))).toEqual(kept); // as kept, across a restart
    });

    it('keeps a short result whole', async () => {
      const j = await journal();
      j.begin(id(1), CommandType.AppCommandRun);
      j.finish(appResult(1, 'ok\n'));
      expect(j.find(id(1))).toEqual({ id: id(1), type: CommandType.AppCommandRun, receivedAt: NOW, result: appResult(1, 'ok\n') });
    });

    it('cuts long lists and an error\'s details too, keeping the code and the message', async () => {
      const j = await journal();
      j.begin(id(1), CommandType.SchedulerStart);
      const violations = Array.from({ length: 500 }, (_, n) => ({ service: `s${n}`, field: 'privileged', problem: 'services may not be privileged' }));
      j.finish({ id: id(1), type: CommandType.SchedulerStart, ok: false, error: { code: 'POLICY_VIOLATION', message: 'The app asks for 500 things.', details: violations }, finishedAt: NOW });
      const kept = j.find(id(1))!.result!;
      expect(Buffer.byteLength(JSON.stringify(kept))).toBeLessThanOrEqual(JOURNAL_RESULT_MAX_BYTES);
      expect(kept.error).toMatchObject({ code: 'POLICY_VIOLATION', message: 'The app asks for 500 things.' });
      expect((kept.error as { details: unknown[] }).details.length).toBeLessThan(500);
    });

    it('bounds the file in bytes: the oldest finished entries go first, the newest 1,000 always stay', async () => {
      const big = 'x'.repeat(JOURNAL_RESULT_MAX_BYTES - 300);
      const count = Math.ceil(JOURNAL_MAX_BYTES / JOURNAL_RESULT_MAX_BYTES) + 500;
      seed(Array.from({ length: count }, (_, n) => ({ id: id(n), type: CommandType.AppCommandRun, receivedAt: recent, result: appResult(n, big) })));
      const j = await journal();
      expect(j.sizeBytes).toBeLessThanOrEqual(JOURNAL_MAX_BYTES);
      expect(j.size).toBeGreaterThanOrEqual(JOURNAL_KEEP_COUNT);
      expect(j.size).toBeLessThan(count);
      expect(j.find(id(0))).toBeUndefined();
      expect(j.find(id(count - 1))).toBeDefined();
      await j.flushed();
      expect(Buffer.byteLength(readFileSync(join(stateDir, 'commands.json')))).toBe(j.sizeBytes);
    });

    it('bounds the entries: beyond JOURNAL_MAX the oldest finished go, even within 24 h; running ones stay', async () => {
      seed([
        { id: id(0), type: 'SystemCommand.info', receivedAt: recent }, // running at the last stop: reported, then kept
        ...Array.from({ length: JOURNAL_MAX + 10 }, (_, n) => ({ id: id(n + 1), type: 'SystemCommand.info', receivedAt: recent, result: result(n + 1, recent) })),
      ]);
      const j = await journal();
      j.begin(id(99_999), 'SystemCommand.info');
      expect(j.size).toBe(JOURNAL_MAX);
      expect(j.find(id(1))).toBeUndefined();
      expect(j.find(id(99_999))).toBeDefined();
    });

    it('never forgets a command that is still running', async () => {
      const j = await journal();
      j.begin(id(0), 'SystemCommand.info');
      for (let n = 1; n <= JOURNAL_MAX + 5; n++) {
        j.begin(id(n), 'SystemCommand.info');
        j.finish(result(n));
      }
      expect(j.find(id(0))).toEqual({ id: id(0), type: 'SystemCommand.info', receivedAt: NOW });
      expect(j.size).toBe(JOURNAL_MAX);
    });

    it('sets aside, unread, a file far beyond its bounds (left by an older device)', async () => {
      writeFileSync(join(stateDir, 'commands.json'), Buffer.alloc(4 * JOURNAL_MAX_BYTES + 1, ' '));
      const j = await journal();
      expect(j.size).toBe(0);
      expect(readdirSync(stateDir).some((name) => name.startsWith('commands.json.too-large-'))).toBe(true);
    });

    it('writes in the background, one write at a time for many commands', async () => {
      const j = await journal();
      for (let n = 0; n < 200; n++) j.begin(id(n), 'SystemCommand.info');
      expect(existsSync(join(stateDir, 'commands.json'))).toBe(false); // nothing written on the event loop's turn
      await j.flushed();
      expect(JSON.parse(readFileSync(join(stateDir, 'commands.json'), 'utf8'))).toHaveLength(200);
    });
  });
});
