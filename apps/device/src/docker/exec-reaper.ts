/**
 * The program that ends a timed-out `docker exec`: the engine has no API to kill an exec, but
 * ExecInspect names its process on the engine's host, and runc makes that process the leader of a
 * session of its own. Run as `node -e REAPER_SOURCE <containerId> <pid>` where that pid is
 * visible: it kills, with SIGKILL, every process of that session and their descendants (forked
 * off, or in a session of their own), and only processes whose cgroup is the container's, so a
 * pid the kernel gave to someone else meanwhile is never touched. It looks again until nothing
 * is left alive (a process may fork while it is being killed), for at most half a second.
 *
 * It prints one JSON line: `{ "seen": false }` when the pid is not the container's (ended, or not
 * visible from here), else `{ "seen": true, "killed": n, "left": m }`.
 *
 * Plain JavaScript in a string, not a function of this bundle: it runs in a process of its own,
 * here or in a container of the device's own image.
 */
export const REAPER_SOURCE = String.raw`
'use strict';
const fs = require('node:fs');
const [containerId, leaderArg] = process.argv.slice(-2);
const leader = Number(leaderArg);
if (!/^[0-9a-f]{64}$/.test(containerId) || !Number.isInteger(leader) || leader < 2) {
  process.stdout.write(JSON.stringify({ error: 'usage: <container id (64 hex)> <pid>' }) + '\n');
  process.exit(2);
}
const read = (path) => { try { return fs.readFileSync(path, 'utf8'); } catch { return undefined; } };
const ofContainer = (pid) => (read('/proc/' + pid + '/cgroup') || '').includes(containerId);
function stat(pid) {
  const text = read('/proc/' + pid + '/stat');
  if (!text) return undefined;
  // pid (comm) state ppid pgrp session ...; comm may hold spaces and parentheses.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0], ppid: Number(fields[1]), session: Number(fields[3]) };
}
// A zombie is dead already: only its parent's wait() removes it.
const alive = (s) => s.state !== 'Z' && s.state !== 'X';
const leaderStat = stat(leader);
if (!leaderStat || !alive(leaderStat) || leaderStat.session !== leader || !ofContainer(leader)) {
  process.stdout.write(JSON.stringify({ seen: false }) + '\n');
  process.exit(0);
}
function targets() {
  const all = new Map();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(name)) continue;
    const s = stat(name);
    if (s) all.set(Number(name), s);
  }
  const chosen = new Set();
  for (const [pid, s] of all) if (s.session === leader) chosen.add(pid);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, s] of all) if (!chosen.has(pid) && chosen.has(s.ppid)) { chosen.add(pid); grew = true; }
  }
  return [...chosen].filter((pid) => alive(all.get(pid)) && ofContainer(pid));
}
// SIGKILL takes effect asynchronously: look again every 25 ms, for at most 20 rounds.
const pause = new Int32Array(new SharedArrayBuffer(4));
const killed = new Set();
let left = targets();
for (let round = 0; round < 20 && left.length > 0; round++) {
  for (const pid of left) { try { process.kill(pid, 'SIGKILL'); killed.add(pid); } catch {} }
  Atomics.wait(pause, 0, 0, 25);
  left = targets();
}
process.stdout.write(JSON.stringify({ seen: true, killed: killed.size, left: left.length }) + '\n');
`;

/** What the reaper printed, or undefined when it printed something else. */
export type ReaperReport = { seen: false } | { seen: true; killed: number; left: number };

export function parseReaperReport(output: string): ReaperReport | undefined {
  const line = output.trim().split('\n').pop() ?? '';
  try {
    const report = JSON.parse(line) as { seen?: unknown; killed?: unknown; left?: unknown };
    if (report.seen === false) return { seen: false };
    if (report.seen === true && Number.isInteger(report.killed) && Number.isInteger(report.left)) {
      return { seen: true, killed: report.killed as number, left: report.left as number };
    }
  } catch {
    // Not the reaper's line: the caller says so.
  }
  return undefined;
}
