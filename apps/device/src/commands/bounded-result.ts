import { StoredResult } from './command-journal.service';

/** Strings are cut to this many characters and no fewer: ids and names stay whole. */
const SHORTEST_CUT = 128;

function byteSize(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value));
}

function marker(cut: number): string {
  return `…[mosaic: ${cut} more characters not kept in the command journal]`;
}

/** Every string longer than `cap` keeps its first `cap` characters and says how much went; `truncated` flags follow. */
function cutStrings(value: unknown, cap: number): unknown {
  if (typeof value === 'string') return value.length > cap ? `${value.slice(0, cap)}${marker(value.length - cap)}` : value;
  if (Array.isArray(value)) return value.map((item) => cutStrings(item, cap));
  if (!value || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  let cut = false;
  for (const [key, item] of Object.entries(value)) {
    out[key] = cutStrings(item, cap);
    if (typeof item === 'string' && out[key] !== item) cut = true;
  }
  // An app command's result says itself that its output is not whole.
  if (cut && typeof out.truncated === 'boolean') out.truncated = true;
  return out;
}

/** Every list longer than `cap` keeps its first `cap` items. */
function cutLists(value: unknown, cap: number): unknown {
  if (Array.isArray(value)) return value.slice(0, cap).map((item) => cutLists(item, cap));
  if (!value || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, cutLists(item, cap)]));
}

/**
 * A command result as the journal keeps it: at most `maxBytes` of JSON. Long strings are cut first
 * (an app command's output, marked in the text and by `truncated`), then long lists; an error's
 * `details` last. The shapes of the protocol's results stay valid, so a resent result is accepted.
 */
export function boundResult(stored: StoredResult, maxBytes: number): { result: StoredResult; cut: boolean } {
  if (byteSize(stored) <= maxBytes) return { result: stored, cut: false };
  let bounded = stored;
  for (let cap = 2048; cap >= SHORTEST_CUT && byteSize(bounded) > maxBytes; cap /= 2) bounded = cutStrings(bounded, cap) as StoredResult;
  for (let cap = 64; cap >= 1 && byteSize(bounded) > maxBytes; cap = Math.floor(cap / 2)) bounded = cutLists(bounded, cap) as StoredResult;
  if (byteSize(bounded) > maxBytes && bounded.error && typeof bounded.error === 'object') {
    const { code, message } = bounded.error as { code?: unknown; message?: unknown };
    bounded = { ...bounded, error: { code, message: `${String(message)} (its details were too long to keep)` } };
  }
  return { result: bounded, cut: true };
}
