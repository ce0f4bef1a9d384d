import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CommandType, ErrorCode, isPlainObject } from '@mosaic/protocol';
import { tempRoot } from '../support/device-harness';
import { Outcome, OutcomeTally, classify } from '../support/fuzz/answers';
import { auditEngine } from '../support/fuzz/container-audit';
import { FuzzDevice } from '../support/fuzz/fuzz-device';
import { FuzzProperty, checkParameters, fuzzSettings, replayHint } from '../support/fuzz/fuzz-settings';
import { ARGS_APP_COMPOSE, DECLARED, hostileAppArgs } from '../support/fuzz/hostile-app-args';
import { composeReachingPolicy, composeRefusedEarly } from '../support/fuzz/hostile-compose';
import { FRESH_ID, hostileEnvelope } from '../support/fuzz/hostile-envelopes';
import { hostileParams, paramsOf } from '../support/fuzz/hostile-params';
import { now, senderDropsProtoKey } from '../support/fuzz/hostile-values';

jest.setTimeout(300_000);

/** What in the device's log would mean it failed where it should have refused. */
const FAILURE_LINES = /INTERNAL|unhandled promise rejection|failed unexpectedly|could not take the command|^\s+at /;
const ALLOWED_CAPS = ['NET_ADMIN', 'NET_BIND_SERVICE'];
/** Every field name some command's params have: a key outside these is unknown to every type. */
const PARAM_FIELDS = new Set([
  'instance',
  'application',
  'compose',
  'links',
  'variables',
  'failover',
  'replicate',
  'remove',
  'reason',
  'command',
  'args',
  'version',
  'image',
]);
const APPLICATION = { appstore: 'Mosaic Fuzz', name: 'fuzz-app', version: '1.0.0' };

function startParams(instance: string, compose: string, variables: Record<string, string> = {}) {
  return {
    instance,
    application: APPLICATION,
    compose,
    links: { default: { domain: 'fuzz.example.net', token: 'link-token' } },
    variables,
    failover: false,
  };
}

/** A copy of `envelope` with a new uuid where the generator asked for one (own keys such as `__proto__` kept). */
function withFreshId(envelope: unknown): unknown {
  if (envelope === null || typeof envelope !== 'object' || Array.isArray(envelope) || Buffer.isBuffer(envelope)) return envelope;
  if ((envelope as { id?: unknown }).id !== FRESH_ID) return envelope;
  const copy = Object.defineProperties({}, Object.getOwnPropertyDescriptors(envelope));
  Object.defineProperty(copy, 'id', { value: randomUUID(), enumerable: true, writable: true, configurable: true });
  return copy;
}

/**
 * Issue 10's property-based fuzz: a hostile Hive (this test) sends generated envelopes, params,
 * compose templates and app-command arguments to a real Device process on an engine of its own
 * with the real storage plugin. Every answer must be a documented refusal or a correct success;
 * the device never crashes, never fails with INTERNAL, and no container steps outside the policy.
 */
describe('the trust boundary, fuzzed by a hostile Hive', () => {
  const settings = fuzzSettings();
  const root = tempRoot('fuzz');
  const tally = new OutcomeTally();
  const seconds: Partial<Record<FuzzProperty, number>> = {};
  let fuzz: FuzzDevice;
  let appInstance: string;
  /** The one instance the allowed compose documents are started as, one after another. */
  const installInstance = randomUUID();
  let startedAllowed = 0;
  /** Containers audited after each allowed start, and at the end. */
  let auditedContainers = 0;

  const command = (type: string, params: unknown, deadlineMs?: number) =>
    fuzz.send({ id: randomUUID(), type, issuedAt: now(), params }, deadlineMs);

  async function counted(property: FuzzProperty, exchange: { ack: unknown; result?: unknown }): Promise<Outcome> {
    const outcome = classify(exchange.ack, exchange.result);
    tally.add(property, outcome);
    return outcome;
  }

  /** Runs one property with the settings' runs and seed, timing it; `after` runs before the device is looked at. */
  async function run<T>(
    property: FuzzProperty,
    arbitrary: fc.Arbitrary<T>,
    check: (value: T) => Promise<void>,
    after?: () => Promise<void>,
  ): Promise<void> {
    const started = performance.now();
    try {
      await fc.assert(fc.asyncProperty(arbitrary, check), checkParameters(settings, property));
    } finally {
      await after?.();
    }
    seconds[property] = (performance.now() - started) / 1000;
    await expectDeviceWell();
  }

  async function expectDeviceWell(): Promise<void> {
    expect(fuzz.device.running).toBe(true);
    const health = await fuzz.health();
    expect(health.body).toMatchObject({ hive: { authenticated: true } });
    expect(fuzz.device.lines.filter((line) => FAILURE_LINES.test(line))).toEqual([]);
  }

  const leftNothing = (instance: string) => expect(existsSync(join(fuzz.appsDir, instance))).toBe(false);

  beforeAll(async () => {
    console.log(replayHint(settings));
    fuzz = await FuzzDevice.start(root.path, { ALLOWED_CAPS: ALLOWED_CAPS.join(',') });
    appInstance = randomUUID();
    const started = await command(CommandType.SchedulerStart, startParams(appInstance, ARGS_APP_COMPOSE), 180_000);
    expect({ ok: started.result?.ok, error: started.result?.error, state: started.result?.result?.state }).toEqual({
      ok: true,
      error: undefined,
      state: 'running',
    });
  });

  afterAll(async () => {
    const runs = Object.entries(settings.runs).map(([p, n]) => `${p} | ${n} | ${seconds[p as FuzzProperty]?.toFixed(1) ?? '-'} s`);
    console.log(
      [
        `fuzz summary (seed ${settings.seed}): ${tally.total()} cases`,
        'property | runs | seconds',
        ...runs,
        `allowed compose documents started and audited: ${startedAllowed}; container audits (after each such start and at the end): ${auditedContainers}, outside the policy: 0 unless a test above failed`,
        '',
        tally.table(),
      ].join('\n'),
    );
    await fuzz?.close();
    root.remove();
  });

  it('envelopes: malformed, unknown, expired, repeated or bloated commands are refused with their documented code', async () => {
    await run('envelopes', hostileEnvelope, async (c) => {
      const outcome = await counted('envelopes', await fuzz.send(withFreshId(c.envelope)));
      // The device never sees a key socket.io's encoder dropped; it must still answer with a documented code.
      if (senderDropsProtoKey(c.envelope)) return;
      expect({ kind: c.kind, code: outcome.code, allowed: c.expected.includes(outcome.code) }).toEqual({
        kind: c.kind,
        code: outcome.code,
        allowed: true,
      });
    });
  });

  it('envelopes before the handshake: NOT_AUTHENTICATED, naming the id only as §2 allows (a string of at most 64 characters)', async () => {
    const link = await fuzz.reconnectHoldingProof();
    await run(
      'preHandshake',
      hostileEnvelope,
      async (c) => {
        const envelope = withFreshId(c.envelope);
        const { ack } = await fuzz.send(envelope);
        const outcome = await counted('preHandshake', { ack });
        const id = isPlainObject(envelope) && typeof envelope.id === 'string' ? envelope.id.slice(0, 64) : '';
        expect({ code: outcome.code, id: (ack as { id: unknown }).id }).toEqual({ code: ErrorCode.NOT_AUTHENTICATED, id });
      },
      () => link.release(),
    );
  });

  it('params: every field of every command type mutated; unknown keys, prototype names included, are refused in the ack', async () => {
    await run('params', hostileParams, async (c) => {
      const instance = randomUUID();
      const params = paramsOf(c, instance, appInstance);
      const outcome = await counted('params', await command(c.type, params));
      const added =
        c.mutations.some((m) => m.op === 'add' && !PARAM_FIELDS.has(m.key!) && Object.hasOwn(params, m.key!)) &&
        !senderDropsProtoKey(params);
      if (added) expect({ stage: outcome.stage, code: outcome.code }).toEqual({ stage: 'ack', code: ErrorCode.INVALID_PARAMS });
      // Nothing a mutated start or stop names exists: neither may succeed, and a refused start leaves nothing.
      if (c.type === CommandType.SchedulerStart || c.type === CommandType.SchedulerStop) expect(outcome.code).not.toBe('ok');
      if (c.type === CommandType.SchedulerStart) leftNothing(instance);
    });
  });

  it('compose refused early: include, env_file, extends, tool variables, NUL, size, YAML bombs never reach Compose', async () => {
    await run('composeEarly', composeRefusedEarly, async (c) => {
      const instance = randomUUID();
      const outcome = await counted(
        'composeEarly',
        await command(CommandType.SchedulerStart, startParams(instance, c.compose, c.variables)),
      );
      expect({ early: c.early, code: outcome.code, allowed: c.codes.includes(outcome.code) }).toEqual({
        early: c.early,
        code: outcome.code,
        allowed: true,
      });
      leftNothing(instance);
    });
  });

  it('compose through an install: what the allow-list refuses never starts; what it allows starts inside the policy', async () => {
    await run('composeInstall', composeReachingPolicy, async (c) => {
      if (!c.allowed) {
        const instance = randomUUID();
        const outcome = await counted(
          'composeInstall',
          await command(CommandType.SchedulerStart, startParams(instance, c.compose), 60_000),
        );
        expect({ items: c.items, code: outcome.code }).toEqual({
          items: c.items,
          code: expect.stringMatching(/^(POLICY_VIOLATION|COMPOSE_INVALID)$/),
        });
        leftNothing(instance);
        expect(await fuzz.probe.projectContainers(instance)).toEqual([]);
        return;
      }
      const outcome = await counted(
        'composeInstall',
        await command(CommandType.SchedulerStart, startParams(installInstance, c.compose), 180_000),
      );
      expect({ items: c.items, code: outcome.code }).toEqual({ items: c.items, code: 'ok' });
      startedAllowed++;
      const audit = await auditEngine(fuzz.probe.docker, { allowedCaps: ALLOWED_CAPS, appsDir: fuzz.appsDir });
      auditedContainers += audit.audited;
      expect({ items: c.items, outside: audit.outside }).toEqual({ items: c.items, outside: [] });
      const stopped = await command(CommandType.SchedulerStop, { instance: installInstance, replicate: false }, 120_000);
      expect(stopped.result).toMatchObject({ ok: true });
    });
  });

  it('app-command arguments: only declared commands with arguments their patterns accept run, each as one argv element', async () => {
    await run('appArgs', hostileAppArgs, async (c) => {
      const exchange = await command(
        CommandType.AppCommandRun,
        { instance: appInstance, command: c.command, ...(c.args === undefined ? {} : { args: c.args }) },
        30_000,
      );
      const outcome = await counted('appArgs', exchange);
      const declared = Object.hasOwn(DECLARED, c.command) ? DECLARED[c.command] : undefined;
      const given = c.args ?? {};
      const runs =
        declared !== undefined &&
        Object.keys(given).length === Object.keys(declared).length &&
        Object.entries(declared).every(
          ([name, pattern]) =>
            Object.hasOwn(given, name) &&
            typeof given[name] === 'string' &&
            pattern.test(given[name] as string) &&
            // A leading "-" only where the pattern itself begins with one (2.3).
            (!(given[name] as string).startsWith('-') || pattern.source.startsWith('^-')),
        );
      expect({ case: c, code: outcome.code }).toEqual({
        case: c,
        code: runs ? 'ok' : expect.stringMatching(/^(INVALID_PARAMS|UNKNOWN_APP_COMMAND)$/),
      });
      if (runs && c.command === 'echo') expect(exchange.result.result.stdout).toBe(`${given.text as string}\n`);
    });
  });

  it('afterwards: the device still serves well-formed commands, and every container it started is inside the policy', async () => {
    const disk = await command(CommandType.DiskSpace, {});
    expect(classify(disk.ack, disk.result)).toEqual({ stage: 'ok', code: 'ok' });
    const echo = await command(CommandType.AppCommandRun, { instance: appInstance, command: 'echo', args: { text: 'still-here' } }, 30_000);
    expect(echo.result).toMatchObject({ ok: true, result: { exitCode: 0, stdout: 'still-here\n' } });
    const audit = await auditEngine(fuzz.probe.docker, { allowedCaps: ALLOWED_CAPS, appsDir: fuzz.appsDir });
    auditedContainers += audit.audited;
    expect(audit.audited).toBeGreaterThan(0);
    expect(audit.outside).toEqual([]);
    await expectDeviceWell();
  });
});
