// Jest (in its CommonJS mode) cannot require ES modules, and Nest 12 ships only ES modules.
// This transform turns the few ESM packages the tests load into CommonJS with TypeScript's own
// transpiler; `import.meta.url`, which CommonJS lacks, becomes the file's URL.
const ts = require('typescript');

const IMPORT_META_URL = /\bimport\.meta\.url\b/g;

module.exports = {
  process(source, filename) {
    const withUrl = source.replace(IMPORT_META_URL, "require('node:url').pathToFileURL(__filename).href");
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
