// npm run api:generate — writes libs/hive-api/openapi.json and libs/hive-api/src/openapi.ts.
// With --check it writes nothing and fails (exit 1) when the committed files differ from the controllers.
import { readFileSync, writeFileSync } from 'node:fs';
import { OPENAPI_JSON_FILE, OPENAPI_TYPES_FILE, generateHiveApiFiles } from './hive-api-files';

const check = process.argv.includes('--check');
const read = (file: string): string => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
};

generateHiveApiFiles().then(
  ({ json, types }) => {
    if (check) {
      const stale = [
        [OPENAPI_JSON_FILE, json],
        [OPENAPI_TYPES_FILE, types],
      ].filter(([file, live]) => read(file) !== live);
      for (const [file] of stale)
        process.stderr.write(`api:check: ${file} differs from the live OpenAPI document; run npm run api:generate\n`);
      process.exit(stale.length ? 1 : 0);
    }
    writeFileSync(OPENAPI_JSON_FILE, json);
    writeFileSync(OPENAPI_TYPES_FILE, types);
    process.stdout.write(`wrote ${OPENAPI_JSON_FILE} and ${OPENAPI_TYPES_FILE}\n`);
  },
  (err: unknown) => {
    process.stderr.write(`api:generate failed: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
