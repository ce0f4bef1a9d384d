// Lets `node -r ./bench/support/register.js bench/x.bench.ts` run the benchmarks straight from
// TypeScript: TypeScript's own transpiler (with decorator metadata, which Nest needs) and the
// `@mosaic/protocol` and `@mosaic/ops` path aliases. Node 24 loads the ES-module-only Nest 12 packages by itself (require(esm)).
const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');
const ts = require('typescript');

const root = path.resolve(__dirname, '../..');
const { config } = ts.readConfigFile(path.join(root, 'tsconfig.json'), ts.sys.readFile);
const { options } = ts.parseJsonConfigFileContent(config, ts.sys, root);
const compilerOptions = { ...options, module: ts.ModuleKind.CommonJS, sourceMap: false, inlineSourceMap: true };

require.extensions['.ts'] = (module, filename) => {
  const source = fs.readFileSync(filename, 'utf8');
  const { outputText } = ts.transpileModule(source, { fileName: filename, compilerOptions });
  module._compile(outputText, filename);
};

const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === '@mosaic/protocol') request = path.join(root, 'libs/protocol/src/index.ts');
  else if (request === '@mosaic/hive-api') request = path.join(root, 'libs/hive-api/src/index.ts');
  else if (request.startsWith('@mosaic/protocol/')) request = path.join(root, 'libs/protocol/src', request.slice('@mosaic/protocol/'.length));
  else if (request === '@mosaic/ops') request = path.join(root, 'libs/ops/src/index.ts');
  return resolve.call(this, request, ...rest);
};
