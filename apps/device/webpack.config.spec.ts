import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runInNewContext } from 'node:vm';

/* eslint-disable @typescript-eslint/no-require-imports */
const deviceConfig = require('./webpack.config.js') as ((options: object, webpack: unknown) => object) & { asciiOnly: (text: string) => string };
const webpack = require('webpack');
const nodeExternals = require('webpack-node-externals');
/* eslint-enable @typescript-eslint/no-require-imports */
const { asciiOnly } = deviceConfig;

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

describe('the Device bundle without libphonenumber-js (apps/device/webpack.config.js)', () => {
  // A bundle made with the Device's config over options like Nest's own, of an entry that validates a DTO.
  const dir = mkdtempSync(join(tmpdir(), 'device-bundle-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function bundle(): Promise<string> {
    const entry = join(dir, 'entry.js');
    writeFileSync(
      entry,
      [
        "require('reflect-metadata');",
        "const { IsString, MaxLength, validateSync, isPhoneNumber } = require('class-validator');",
        'class Dto { constructor(name) { this.name = name; } }',
        "IsString()(Dto.prototype, 'name'); MaxLength(3)(Dto.prototype, 'name');",
        'const phone = isPhoneNumber("+41 44 668 18 00");',
        'const loaded = Object.keys(require.cache).filter((f) => f.includes("libphonenumber-js")).length;',
        'process.stdout.write(JSON.stringify({ ok: validateSync(new Dto("abc")).length, bad: validateSync(new Dto("abcd")).map((e) => Object.keys(e.constraints)), phone, loaded }));',
      ].join('\n'),
    );
    const nest = {
      entry,
      target: 'node',
      mode: 'none',
      externals: [nodeExternals()],
      externalsPresets: { node: true },
      module: { rules: [{ test: /\.ts$/, loader: 'ts-loader', options: { transpileOnly: true, configFile: join(__dirname, 'tsconfig.app.json') } }] },
      resolve: { extensions: ['.ts', '.js'] },
      output: { path: dir, filename: 'main.js' },
      plugins: [],
    };
    const config = deviceConfig(nest, webpack);
    const stats = await new Promise<any>((resolve, reject) => webpack(config).run((err: Error | null, s: any) => (err ? reject(err) : resolve(s))));
    expect(stats.hasErrors()).toBe(false);
    return join(dir, 'main.js');
  }

  it('validates with class-validator bundled, never loads libphonenumber-js, and refuses a phone number it cannot check', async () => {
    const main = await bundle();
    const source = readFileSync(main, 'utf8');
    expect(source).not.toMatch(/require\("libphonenumber-js/);
    expect(source).not.toMatch(/require\("class-validator/);
    // The bundle lies outside the project: its external packages are found through NODE_PATH.
    const { stdout } = await promisify(execFile)(process.execPath, [main], { env: { ...process.env, NODE_PATH: join(__dirname, '../../node_modules') } });
    expect(JSON.parse(stdout)).toEqual({ ok: 0, bad: [['maxLength']], phone: false, loaded: 0 });
  }, 120_000);

  it('is safe while nothing the Device validates asks for a phone number', () => {
    const grep = spawnSync('grep', ['-rlE', 'IsPhoneNumber|isPhoneNumber', join(__dirname, 'src'), join(__dirname, '../../libs')], { encoding: 'utf8' });
    expect(grep.status === 0 || grep.status === 1).toBe(true); // 1: nothing found
    expect(grep.stdout.split('\n').filter((f) => f && !f.endsWith('phone-numbers-stub.ts') && !f.endsWith('.spec.ts'))).toEqual([]);
  });
});
