// Jest (in its CommonJS mode) cannot require ES modules, and Nest 12 ships only ES modules.
// This transform turns the few ESM packages the tests load into CommonJS with TypeScript's own
// transpiler; `import.meta.url`, which CommonJS lacks, becomes the file's URL.
const crypto = require('node:crypto');
const fs = require('node:fs');
const ts = require('typescript');

/** Jest caches by the source alone unless told: a change to this transform must invalidate it. */
const SELF = fs.readFileSync(__filename);

const IMPORT_META_URL = /\bimport\.meta\.url\b/g;
/** `const require = createRequire(import.meta.url)` (@nestjs/swagger): CommonJS has its own require already. */
const OWN_REQUIRE = /^const require = createRequire\(import\.meta\.url\);?$/m;

module.exports = {
  getCacheKey(source, filename) {
    return crypto.createHash('sha256').update(SELF).update(filename).update(source).digest('hex');
  },
  process(source, filename) {
    const withUrl = source.replace(OWN_REQUIRE, '').replace(IMPORT_META_URL, "require('node:url').pathToFileURL(__filename).href");
    const { outputText, sourceMapText } = ts.transpileModule(withUrl, {
      fileName: filename,
      compilerOptions: {
        module: ts.ModuleKind.CommonJS,
        target: ts.ScriptTarget.ES2022,
        allowJs: true,
        esModuleInterop: true,
        sourceMap: true,
      },
    });
    return { code: outputText, map: sourceMapText };
  },
};
