'use strict';
// The Device's bundle, as Nest's CLI makes it, written in ASCII only: each character outside
// ASCII (a ’, → or … in a message) becomes its \uXXXX escape, which means the same in a string,
// template or regular expression. V8 keeps the source of every loaded script in memory, and one
// character outside Latin-1 makes it keep the whole ~400 KB bundle as two bytes a character.

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

module.exports = (options) => ({ ...options, plugins: [...(options.plugins ?? []), new AsciiOnlyPlugin()] });
module.exports.asciiOnly = asciiOnly;
