import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { COMMAND_TYPES, ErrorCode, Events } from '@mosaic/protocol';

/**
 * The project's own documents: every Markdown link stays inside the repository and leads somewhere,
 * and docs/protocol.md, the normative wire contract, names everything this library puts on the wire.
 */
const ROOT = resolve(__dirname, '../../..');
/** Build output, installed packages and git's own files; /tmp is the repository's ignored scratch folder. */
const SKIPPED = new Set(['node_modules', 'dist', 'coverage', '.git', join(ROOT, 'tmp')]);
const TEXT_FILES = /\.(md|ts|js|mjs|cjs|sh|ya?ml|json)$|^(Dockerfile|\.env\.example)$/;

function files(dir: string, wanted: RegExp): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (SKIPPED.has(name) || SKIPPED.has(path)) continue;
    const stat = statSync(path);
    if (stat.isDirectory()) found.push(...files(path, wanted));
    else if (wanted.test(name) && name !== 'package-lock.json') found.push(path);
  }
  return found.sort();
}

/** The text a reader sees: fenced blocks and code spans hold examples, not links. */
function prose(markdown: string): string[] {
  let fenced = false;
  return markdown.split('\n').map((line) => {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      return '';
    }
    return fenced ? '' : line.replace(/`+[^`]*`+/g, '');
  });
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens; repeats get -1, -2. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const found = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const text = heading[1].replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/[`*]/g, '');
    const base = text.toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    found.add(count ? `${base}-${count}` : base);
  }
  return found;
}

/** `[text](target "title")` and `![alt](target)`; the text may run over lines. */
const INLINE_LINK = /!?\[(?:[^[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g;
/** `[label]: target` on a line of its own. */
const REFERENCE_LINK = /^ {0,3}\[[^\]]+\]:[ \t]*<?([^\s>]+)>?/gm;

/** Why a link from `file` to `target` is broken, or null when it leads to a place in the repository. */
function brokenLink(file: string, target: string): string | null {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return null; // http:, https:, mailto: …
  const [rawPath, anchor] = target.split('#', 2);
  const path = decodeURIComponent(rawPath.split('?')[0]);
  if (isAbsolute(path)) return 'is an absolute path; link relative to the document';
  const destination = path === '' ? file : resolve(dirname(file), path);
  const inRepo = relative(ROOT, destination);
  if (inRepo.startsWith('..') || isAbsolute(inRepo)) return 'leaves the repository';
  if (!existsSync(destination)) return 'does not exist in the repository';
  if (anchor && destination.endsWith('.md') && !anchors(readFileSync(destination, 'utf8')).has(anchor)) {
    return `names no heading #${anchor} of ${relative(ROOT, destination)}`;
  }
  return null;
}

describe('the documents of the repository', () => {
  const markdown = files(ROOT, /\.md$/);

  it('finds the documents (the walk works)', () => {
    const found = markdown.map((f) => relative(ROOT, f));
    expect(found).toEqual(expect.arrayContaining(['README.md', 'catalog/README.md', 'docs/protocol.md', 'docs/architecture.md']));
  });

  it('link only to files and headings inside the repository', () => {
    const broken: string[] = [];
    for (const file of markdown) {
      const text = prose(readFileSync(file, 'utf8')).join('\n');
      for (const link of [...text.matchAll(INLINE_LINK), ...text.matchAll(REFERENCE_LINK)]) {
        const why = brokenLink(file, link[1]);
        const line = text.slice(0, link.index).split('\n').length;
        if (why) broken.push(`${relative(ROOT, file)}:${line}: (${link[1]}) ${why}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('and the code name no document that lives outside the repository', () => {
    // The wire contract and the house plan are docs/protocol.md and docs/architecture.md now.
    const outside = /\b(?:PROTOCOL|DESIGN)\.md\b|\.\.\/shared\//;
    const mentions: string[] = [];
    for (const file of files(ROOT, TEXT_FILES)) {
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, index) => outside.test(line) && mentions.push(`${relative(ROOT, file)}:${index + 1}: ${line.trim()}`));
    }
    expect(mentions).toEqual([]);
  });
});

describe('docs/protocol.md', () => {
  const path = join(ROOT, 'docs/protocol.md');
  const protocol = existsSync(path) ? readFileSync(path, 'utf8') : '';
  /** A name is documented when a table row starts with it: the events, command types and error codes tables. */
  const undocumented = (names: readonly string[]) =>
    names.filter((name) => !new RegExp(`^\\|\\s*\`${name.replace(/\./g, '\\.')}\`\\s*\\|`, 'm').test(protocol));

  it('exists', () => {
    expect(protocol).not.toBe('');
  });

  it('has a row for every event of libs/protocol', () => {
    expect(undocumented(Object.values(Events))).toEqual([]);
  });

  it('has a row for every command type of libs/protocol', () => {
    expect(undocumented(COMMAND_TYPES)).toEqual([]);
  });

  it('has a row for every error code of libs/protocol', () => {
    expect(undocumented(Object.values(ErrorCode))).toEqual([]);
  });

  it('says which version it describes and keeps a Changes section', () => {
    expect(protocol).toMatch(/^Protocol version: \*\*\d+\*\*/m);
    expect(protocol).toMatch(/^## \d+\. Changes$/m);
  });
});
