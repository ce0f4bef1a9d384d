/**
 * Splits a command line as a POSIX shell would split a plain command (words, single quotes,
 * backslash escapes, backslash-newline continuations) into argv, so a test can run a command a
 * page shows without a shell. Anything a shell would expand or act on (variables, substitution,
 * globs, redirections, pipes, `;`, `&`) is refused: the command must be one plain command.
 */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '\\') {
      const next = line[++i];
      if (next === undefined) throw new Error('a trailing backslash');
      if (next !== '\n') word = (word ?? '') + next;
      continue;
    }
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error('an unterminated single quote');
      word = (word ?? '') + line.slice(i + 1, end);
      i = end;
      continue;
    }
    if (/\s/.test(c)) {
      if (word !== null) words.push(word);
      word = null;
      continue;
    }
    if ('"$`;|&<>*?[]{}()#~'.includes(c)) throw new Error(`"${c}" would be read by a shell`);
    word = (word ?? '') + c;
  }
  if (word !== null) words.push(word);
  return words;
}
