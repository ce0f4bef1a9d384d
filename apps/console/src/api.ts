// The Hive's REST API, typed from its OpenAPI document (libs/hive-api). Same origin: the session
// cookie goes along by itself; the CSRF token is added to every change.
import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from '@mosaic/hive-api';

export type Schemas = components['schemas'];
export type Device = Schemas['DeviceSchema'];
export type DeviceDetail = Schemas['DeviceWithUpgradeSchema'];
export type App = Schemas['AppSchema'];
export type CatalogApp = Schemas['CatalogAppSchema'];
export type Command = Schemas['CommandSchema'];
export type Move = Schemas['MoveSchema'];

/** `{ code, message, details? }`; for INVALID_PARAMS, details are `[{ field, problems }]`. */
export interface ApiError {
  code: string;
  message: string;
  details?: unknown;
}

/** What `call` throws when the session ended under the page (the sign-in dialog opens by itself). */
export const SESSION_EXPIRED = 'SESSION_EXPIRED';

let csrfToken: string | null = null;
const expiredListeners = new Set<() => void>();

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** Called when a request finds the session gone (expired, signed out elsewhere). */
export function onSessionExpired(listener: () => void): () => void {
  expiredListeners.add(listener);
  return () => expiredListeners.delete(listener);
}

const session: Middleware = {
  onRequest({ request }) {
    if (request.method !== 'GET' && csrfToken) request.headers.set('X-CSRF-Token', csrfToken);
    return request;
  },
  onResponse({ response, request }) {
    if (response.status === 401 && !new URL(request.url).pathname.startsWith('/api/session')) {
      for (const listener of [...expiredListeners]) listener();
    }
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: '' });
api.use(session);

/** The API's answer as data, or its error thrown as an ApiError. */
export async function call<T>(request: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await request;
  // The session-expired dialog says what happened; the page itself shows nothing for it.
  if (response.status === 401 && !new URL(response.url).pathname.startsWith('/api/session')) {
    throw { code: SESSION_EXPIRED, message: '' } satisfies ApiError;
  }
  if (error !== undefined || !response.ok) {
    const body = (error ?? {}) as Partial<ApiError>;
    throw {
      code: body.code ?? `HTTP_${response.status}`,
      message: body.message ?? response.statusText,
      details: body.details,
    } satisfies ApiError;
  }
  return data as T;
}

/** Field problems of an INVALID_PARAMS error, by field name (`variables.NAME`, `args.text`, …). */
export function fieldErrors(error: unknown): Record<string, string> {
  const details = (error as ApiError | undefined)?.details;
  if (!Array.isArray(details)) return {};
  return Object.fromEntries(
    details
      .filter((d): d is { field: string; problems: string[] } => typeof d?.field === 'string' && Array.isArray(d?.problems))
      .map((d) => [d.field, d.problems.join('; ')]),
  );
}

/** The sentence to show for an error; empty for an expired session, which the sign-in dialog covers. */
export const messageOf = (error: unknown): string =>
  (error as ApiError | undefined)?.code === SESSION_EXPIRED
    ? ''
    : ((error as ApiError | undefined)?.message ?? (error instanceof Error ? error.message : 'Something went wrong.'));
