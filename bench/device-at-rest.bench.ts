/**
 * Device at rest (budget, docs/architecture.md: resident memory ≤ 85 MB, CPU < 1 %, ≤ 5 % growth over a
 * 1-hour soak): a Device process connected to a Hive, with its storage plugin and two running apps on an engine
 * of its own, left alone with the production report intervals. Its RSS and CPU time are read
 * from /proc every BENCH_SAMPLE_S (default 10) for BENCH_SECONDS (default 300) after a warm-up,
 * and the RSS trend is fitted (MiB per hour). The floor is an idle `node -e` process sampled the
 * same way, so the figure can be read as "what the Device adds to Node itself". The growth is
 * the RSS trend over the window as a share of the first RSS per hour: judged only when the window
 * is an hour or more (BENCH_SECONDS=3600). Quick mode: 2 s warm-up, a 6 s window.
 *
 *   node -r ./bench/support/register.js bench/device-at-rest.bench.ts
 */
import { spawn } from 'node:child_process';
import { runBench } from './support/bench';
import { ProcSample, cpuPercent, mib, rssSlopeMibPerHour, sampleProcess } from './support/proc-usage';
import { memoryBreakdown, startRestingDevice } from './support/resting-device';

const BUDGET = { rssMb: 85, cpuPercent: 1, growthPercentPerHour: 5 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function sampleFor(pids: number[], windowS: number, everyS: number): Promise<ProcSample[][]> {
  const series: ProcSample[][] = pids.map((pid) => [sampleProcess(pid)]);
  for (let t = 0; t < windowS; t += everyS) {
    await sleep(everyS * 1000);
    pids.forEach((pid, i) => series[i].push(sampleProcess(pid)));
  }
  return series;
}

function summary(name: string, samples: ProcSample[]): string {
  const rss = samples.map((s) => s.rssBytes);
  return [
    name.padEnd(22),
    `RSS first ${mib(rss[0])}, last ${mib(rss[rss.length - 1])}, max ${mib(Math.max(...rss))}`.padEnd(56),
    `trend ${rssSlopeMibPerHour(samples).toFixed(1)} MiB/h`.padEnd(20),
    `CPU ${cpuPercent(samples[0], samples[samples.length - 1]).toFixed(2)} %`,
  ].join('');
}

runBench('device-at-rest', {
  totalS: (bench) => 600 + bench.setting('BENCH_WARMUP_S', 60, 2) + bench.setting('BENCH_SECONDS', 300, 6),
  async run(bench) {
    const windowS = bench.setting('BENCH_SECONDS', 300, 6);
    const everyS = bench.setting('BENCH_SAMPLE_S', 10, 2);
    const warmupS = bench.setting('BENCH_WARMUP_S', 60, 2);
    const idleNode = await bench.resource(
      'an idle node -e (the floor)',
      10,
      async () => spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], { stdio: 'ignore' }),
      (child) => child.kill(),
    );
    const { device } = await startRestingDevice(bench, 'at-rest');
    console.log(`device ${device.pid} runs 2 apps; warming up ${warmupS} s, then sampling every ${everyS} s for ${windowS} s`);
    await sleep(warmupS * 1000);
    const [deviceSamples, nodeSamples] = await sampleFor([device.pid, idleNode.pid!], windowS, everyS);

    console.log(`\n${summary('Device (2 apps)', deviceSamples)}\n${summary('floor: idle node -e', nodeSamples)}`);
    console.log(`the Device's own view (/metrics): ${await memoryBreakdown(device)}`);
    const maxRssMb = (samples: ProcSample[]) => Math.max(...samples.map((x) => x.rssBytes)) / 1e6;
    const cpu = (samples: ProcSample[]) => cpuPercent(samples[0], samples[samples.length - 1]);
    const growth = (rssSlopeMibPerHour(deviceSamples) * 1024 * 1024 * 100) / deviceSamples[0].rssBytes;
    const soaked = windowS >= 3600;
    console.log(
      `\nbudget: RSS ≤ ${BUDGET.rssMb} MB → ${maxRssMb(deviceSamples).toFixed(0)} MB; CPU < ${BUDGET.cpuPercent} % → ${cpu(deviceSamples).toFixed(2)} %; ` +
        `growth ≤ ${BUDGET.growthPercentPerHour} % in an hour → trend ${growth.toFixed(1)} %/h over ${windowS} s${soaked ? '' : ' (not a soak: not judged)'}`,
    );
    return {
      figures: [
        {
          figure: 'Device at rest with 2 apps: resident memory, highest sample',
          value: maxRssMb(deviceSamples),
          unit: 'MB',
          floor: { what: 'idle node -e', value: maxRssMb(nodeSamples) },
          budget: { line: `≤ ${BUDGET.rssMb} MB`, judged: `${maxRssMb(deviceSamples).toFixed(0)} MB` },
          met: maxRssMb(deviceSamples) <= BUDGET.rssMb,
        },
        {
          figure: 'Device at rest with 2 apps: CPU, % of one core',
          value: cpu(deviceSamples),
          unit: '%',
          floor: { what: 'idle node -e', value: cpu(nodeSamples) },
          budget: { line: `< ${BUDGET.cpuPercent} %`, judged: `${cpu(deviceSamples).toFixed(2)} %` },
          met: cpu(deviceSamples) < BUDGET.cpuPercent,
        },
        {
          figure: `Device at rest with 2 apps: RSS trend over ${windowS} s, per hour`,
          value: growth,
          unit: '%/h',
          budget: {
            line: `≤ ${BUDGET.growthPercentPerHour} % over a 1-hour soak`,
            judged: `${growth.toFixed(1)} %/h${soaked ? '' : ` over ${windowS} s`}`,
          },
          met: soaked ? growth <= BUDGET.growthPercentPerHour : null,
        },
      ],
      notes: soaked
        ? undefined
        : [`the RSS growth is a trend over ${windowS} s, not the 1-hour soak of the budget (BENCH_SECONDS=3600 runs one)`],
    };
  },
});
