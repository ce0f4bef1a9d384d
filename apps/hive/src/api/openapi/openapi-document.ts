import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { HIVE_VERSION } from '../../common/hive-version';
import { CSRF_HEADER, SESSION_COOKIE } from '../../console-auth/session-cookie';
import { EXTRA_MODELS } from './schemas';

/** Where the API describes itself: Swagger UI, and the OpenAPI JSON the typed clients are generated from. */
export const OPENAPI_UI_PATH = 'api/docs';
export const OPENAPI_JSON_PATH = 'api/docs-json';

/** The Hive's REST API as OpenAPI 3, from the controllers' decorators (libs/hive-api is generated from it). */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Mosaic Hive')
    .setDescription(
      'The reference Hive’s REST API (apps/hive/README.md). Send `Authorization: Bearer <HIVE_ADMIN_TOKEN>`, or use a Console ' +
        `session: the \`${SESSION_COOKIE}\` cookie, with the session's CSRF token in \`${CSRF_HEADER}\` on every change. ` +
        'Errors are `{ code, message, details? }`.',
    )
    .setVersion(HIVE_VERSION)
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'HIVE_ADMIN_TOKEN' }, 'admin-token')
    .addCookieAuth(SESSION_COOKIE, { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE }, 'console-session')
    // Either credential will do (a list of requirements is an "or").
    .addSecurityRequirements('admin-token')
    .addSecurityRequirements('console-session')
    .build();
  const document = SwaggerModule.createDocument(app, config, {
    extraModels: EXTRA_MODELS,
    // Stable, readable operation ids: the generated client's names do not change with the controller's class name.
    operationIdFactory: (controllerKey: string, methodKey: string) => `${controllerKey.replace(/Controller$/, '')}_${methodKey}`,
  });
  for (const [path, item] of Object.entries(document.paths)) {
    if (!OPEN_PATHS.test(path)) continue;
    for (const operation of Object.values(item))
      if (typeof operation === 'object' && operation && 'responses' in operation) operation.security = [];
  }
  return document;
}

/** The routes that need no credential: health, and signing in (signing out needs the session it ends). */
const OPEN_PATHS = /^\/api\/(health|session(\/setup)?)$/;

export function setUpOpenApi(app: INestApplication): void {
  SwaggerModule.setup(OPENAPI_UI_PATH, app, () => buildOpenApiDocument(app), {
    jsonDocumentUrl: OPENAPI_JSON_PATH,
    yamlDocumentUrl: `${OPENAPI_JSON_PATH}.yaml`,
  });
}
