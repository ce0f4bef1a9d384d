import { runInNewContext } from 'node:vm';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { asciiOnly } = require('./webpack.config.js') as { asciiOnly: (text: string) => string };

describe('the Device bundle in ASCII only (apps/device/webpack.config.js)', () => {
  const source = [
    "const quote = 'the host’s GPUs';",
    'const template = `a → b … ${quote}`;',
    "const pattern = /^[’…]+$/u.test('’…');",
    "const astral = '😀'.length;",
    '({ quote, template, pattern, astral })',
  ].join('\n');

  it('leaves no character outside ASCII', () => {
    expect([...asciiOnly(source)].filter((c) => c.charCodeAt(0) > 127)).toEqual([]);
  });

  it('means the same: strings, templates, regular expressions and characters outside the BMP', () => {
    expect(runInNewContext(asciiOnly(source))).toEqual(runInNewContext(source));
    expect(runInNewContext(asciiOnly(source))).toEqual({ quote: 'the host’s GPUs', template: 'a → b … the host’s GPUs', pattern: true, astral: 2 });
  });

  it('changes nothing that is ASCII already', () => {
    expect(asciiOnly("const a = 'plain';")).toBe("const a = 'plain';");
  });
});
