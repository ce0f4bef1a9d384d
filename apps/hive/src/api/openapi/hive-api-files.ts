// Builds the files of libs/hive-api from the Hive's controllers: the OpenAPI document and the
// TypeScript types generated from it (openapi-typescript), which the Console and the CLI import.
import type { NestExpressApplication } from '@nestjs/platform-express';
import { NestFactory } from '@nestjs/core';
import openapiTS, { astToString } from 'openapi-typescript';
import { join } from 'node:path';
import { HiveModule } from '../../hive.module';
import { buildOpenApiDocument } from './openapi-document';

export const HIVE_API_DIR = join(__dirname, '../../../../../libs/hive-api');
export const OPENAPI_JSON_FILE = join(HIVE_API_DIR, 'openapi.json');
export const OPENAPI_TYPES_FILE = join(HIVE_API_DIR, 'src/openapi.ts');

const HEADER = `// Generated from the Hive's OpenAPI document by \`npm run api:generate\`: do not edit.\n// A unit test (apps/hive/src/api/openapi/hive-api-files.spec.ts) fails when it drifts from the controllers.\n\n`;

export interface HiveApiFiles {
  json: string;
  types: string;
}

/** An in-memory Hive, described and closed again; nothing listens. */
export async function generateHiveApiFiles(): Promise<HiveApiFiles> {
  const app = await NestFactory.create<NestExpressApplication>(
    HiveModule.forRoot({ adminToken: 'openapi-generator-token', dbPath: ':memory:', port: 0 }),
    { logger: false },
  );
  try {
    const document = buildOpenApiDocument(app);
    const json = `${JSON.stringify(document, null, 2)}\n`;
    const types = HEADER + astToString(await openapiTS(JSON.parse(json), { alphabetize: true, defaultNonNullable: false }));
    return { json, types };
  } finally {
    await app.close();
  }
}
