'use strict';
// The Device's bundle, as Nest's CLI makes it, written in ASCII only: each character outside
// ASCII (a ’, → or … in a message) becomes its \uXXXX escape, which means the same in a string,
// template or regular expression. V8 keeps the source of every loaded script in memory, and one
// character outside Latin-1 makes it keep the whole ~400 KB bundle as two bytes a character.

const path = require('node:path');
const nodeExternals = require('webpack-node-externals');

/** @param {string} text */
const asciiOnly = (text) => text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

class AsciiOnlyPlugin {
  apply(compiler) {
    const { Compilation, sources } = compiler.webpack;
    compiler.hooks.thisCompilation.tap('AsciiOnlyPlugin', (compilation) => {
      compilation.hooks.processAssets.tap({ name: 'AsciiOnlyPlugin', stage: Compilation.PROCESS_ASSETS_STAGE_OPTIMIZE_SIZE }, (assets) => {
        for (const [name, asset] of Object.entries(assets)) {
          if (!name.endsWith('.js')) continue;
          const text = asset.source().toString();
          const ascii = asciiOnly(text);
          if (ascii !== text) compilation.updateAsset(name, new sources.RawSource(ascii));
        }
      });
    });
  }
}

// class-validator is bundled (its CommonJS build), so that libphonenumber-js, which only its
// IsPhoneNumber needs and which it loads with everything else, can be left out: a stub that throws
// takes its place (src/common/phone-numbers-stub.ts). Every other package stays external.
const PHONE_NUMBERS_STUB = path.join(__dirname, 'src/common/phone-numbers-stub.ts');

/** Nest's webpack options for the Device, with the changes above. */
module.exports = (options, webpack = require('webpack')) => ({
  ...options,
  // Not external either, libphonenumber-js: externals are decided on the request as written, before the replacement.
  externals: [nodeExternals({ allowlist: [/^class-validator(\/|$)/, /^libphonenumber-js(\/|$)/] })],
  resolve: {
    ...options.resolve,
    alias: { ...options.resolve?.alias, 'class-validator$': require.resolve('class-validator/cjs/index.js') },
  },
  plugins: [
    ...(options.plugins ?? []),
    new webpack.NormalModuleReplacementPlugin(/^libphonenumber-js(\/|$)/, PHONE_NUMBERS_STUB),
    new AsciiOnlyPlugin(),
  ],
});
module.exports.asciiOnly = asciiOnly;
module.exports.PHONE_NUMBERS_STUB = PHONE_NUMBERS_STUB;
