import { shellWords } from './shell-words';

describe('shellWords', () => {
  it('splits words, joins continuations and keeps quoted text whole', () => {
    expect(shellWords("docker run -d \\\n  -e A=b -e P='it'\\''s a secret' img:1")).toEqual([
      'docker',
      'run',
      '-d',
      '-e',
      'A=b',
      '-e',
      "P=it's a secret",
      'img:1',
    ]);
  });

  it.each(['echo $HOME', 'a; b', 'a | b', 'a > f', 'a `b`', 'a "b"', "a 'b"])('refuses %p', (line) => {
    expect(() => shellWords(line)).toThrow();
  });
});
