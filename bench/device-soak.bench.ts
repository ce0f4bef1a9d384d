/**
 * Device soak (budget, docs/architecture.md: RSS grows ≤ 5 % over a 1-hour soak): the resting
 * Device of bench:rest (two apps, the image's Node flags) made busier than in production —
 * report.apps and report.volumes every 10 s, and a command every minute through the Hive's REST
 * API (SystemCommand.info and SystemCommand.diskSpace in turn) — for BENCH_SECONDS (default
 * 3600) after a warm-up (BENCH_WARMUP_S, default 60). RSS is read from /proc every
 * BENCH_SAMPLE_S (default 10). Reported: the RSS at the start and at the end (means of the first
 * and last tenth of the run), the growth between them, the fitted trend per hour, and each
 * command's round trip. The growth is judged only over an hour or more. Quick mode: 2 s warm-up,
 * a 12 s run, a command every 4 s, samples every 2 s.
 *
 *   node -r ./bench/support/register.js bench/device-soak.bench.ts
 *   BENCH_SECONDS=900 npm run bench:soak    # a 15-minute soak
 */
import { CommandType } from '@mosaic/protocol';
import { runBench } from './support/bench';
import { ProcSample, cpuPercent, mib, sampleProcess } from './support/proc-usage';
import { memoryBreakdown, startRestingDevice } from './support/resting-device';
import { soakFigures } from './support/soak';
import { ms, percentileOfSorted } from './support/stats';

const BUDGET = { growthPercent: 5, soakS: 3600 };
const REPORT_INTERVAL_S = '10';
const COMMANDS = [CommandType.Info, CommandType.DiskSpace];
/** 40 s, 15 min. */
const span = (seconds: number) => (seconds < 120 ? `${seconds.toFixed(0)} s` : `${(seconds / 60).toFixed(0)} min`);
const sleep = (milliseconds: number) => new Promise((r) => setTimeout(r, milliseconds));

runBench('device-soak', {
  totalS: (bench) => 600 + bench.setting('BENCH_WARMUP_S', 60, 2) + bench.setting('BENCH_SECONDS', BUDGET.soakS, 12),
  async run(bench) {
    const durationS = bench.setting('BENCH_SECONDS', BUDGET.soakS, 12);
    const sampleS = bench.setting('BENCH_SAMPLE_S', 10, 2);
    const commandS = bench.setting('BENCH_COMMAND_S', 60, 4);
    const warmupS = bench.setting('BENCH_WARMUP_S', 60, 2);
    const { device, deviceId, hive } = await startRestingDevice(bench, 'soak', {
      REPORT_APPS_INTERVAL_S: REPORT_INTERVAL_S,
      REPORT_VOLUMES_INTERVAL_S: REPORT_INTERVAL_S,
    });
    console.log(
      `device ${device.pid} runs 2 apps, reports every ${REPORT_INTERVAL_S} s; warming up ${warmupS} s, then ${durationS} s with a command every ${commandS} s, RSS every ${sampleS} s`,
    );
    await sleep(warmupS * 1000);

    const samples: ProcSample[] = [sampleProcess(device.pid)];
    const roundTrips: number[] = [];
    const failures: string[] = [];
    const startedAt = performance.now();
    const endAt = startedAt + durationS * 1000;
    let nextSample = startedAt + sampleS * 1000;
    let nextCommand = startedAt + commandS * 1000;
    let sent = 0;
    while (performance.now() < endAt) {
      await sleep(Math.max(0, Math.min(nextSample, nextCommand, endAt) - performance.now()));
      if (performance.now() >= nextCommand && nextCommand < endAt) {
        const type = COMMANDS[sent++ % COMMANDS.length];
        const from = performance.now();
        const answer = await bench.step(`${type} through the Hive`, 60, () => hive.api.post(`/api/devices/${deviceId}/commands`, { type, params: {} }));
        if (answer.status === 200 && answer.body.status === 'succeeded') roundTrips.push(performance.now() - from);
        else failures.push(`${type}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`);
        nextCommand += commandS * 1000;
      }
      if (performance.now() >= nextSample) {
        samples.push(sampleProcess(device.pid));
        nextSample += sampleS * 1000;
      }
    }
    samples.push(sampleProcess(device.pid));

    const soak = soakFigures(samples);
    const sorted = [...roundTrips].sort((a, b) => a - b);
    const soaked = durationS >= BUDGET.soakS;
    console.log(
      `\nRSS: start ${mib(soak.startRssBytes)}, end ${mib(soak.endRssBytes)}, growth ${soak.growthPercent.toFixed(1)} % over ${span(soak.durationS)}; ` +
        `trend ${soak.trendMibPerHour.toFixed(2)} MiB/h (${soak.trendPercentPerHour.toFixed(1)} %/h); highest ${mib(Math.max(...samples.map((s) => s.rssBytes)))}; ` +
        `CPU ${cpuPercent(samples[0], samples[samples.length - 1]).toFixed(2)} % of one core`,
    );
    console.log(
      `commands: ${roundTrips.length} answered of ${sent}` +
        (sorted.length ? `, REST round trip p50 ${ms(percentileOfSorted(sorted, 50))}, max ${ms(sorted[sorted.length - 1])}` : '') +
        (failures.length ? `; failed: ${failures.slice(0, 3).join('; ')}` : ''),
    );
    console.log(`the Device's own view (/metrics): ${await memoryBreakdown(device)}`);
    if (failures.length) throw new Error(`${failures.length} command(s) failed during the soak: ${failures[0]}`);
    return {
      figures: [
        {
          figure: `Device soak (reports every ${REPORT_INTERVAL_S} s, a command every ${commandS} s): RSS growth over ${span(soak.durationS)}`,
          value: soak.growthPercent,
          unit: '%',
          budget: {
            line: `≤ ${BUDGET.growthPercent} % over a 1-hour soak`,
            judged: `${mib(soak.startRssBytes)} → ${mib(soak.endRssBytes)}`,
          },
          met: soaked ? soak.growthPercent <= BUDGET.growthPercent : null,
        },
        {
          figure: 'Device soak: RSS trend, per hour',
          value: soak.trendPercentPerHour,
          unit: '%/h',
          budget: { line: 'not budgeted (the growth is)', judged: `${soak.trendMibPerHour.toFixed(2)} MiB/h` },
          met: null,
        },
      ],
      notes: soaked ? undefined : [`a ${durationS} s run, not the hour of the budget: the growth is not judged`],
    };
  },
});
