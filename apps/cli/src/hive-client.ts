/**
 * The CLI's one door to the Hive's REST API (apps/hive/README.md): plain fetch, the admin token
 * as a bearer, a deadline on every call, errors as HiveApiError. Kept to this file so that it can
 * switch to a client generated from the Hive's OpenAPI document without touching the commands.
 */

export class HiveApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export interface Answer<T> {
  status: number;
  body: T;
}

const DEFAULT_TIMEOUT_MS = 30_000;

export class HiveClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path).then((a) => a.body);
  }

  /** A POST; `waitMs` adds to the deadline what the Hive was asked to wait for. */
  post<T>(path: string, body: unknown, waitMs = 0): Promise<Answer<T>> {
    return this.request<T>('POST', path, body, waitMs);
  }

  async request<T>(method: string, path: string, body?: unknown, waitMs = 0): Promise<Answer<T>> {
    const timeoutMs = DEFAULT_TIMEOUT_MS + waitMs;
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'error',
      });
    } catch (err) {
      const why = (err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : ((err as { cause?: Error }).cause?.message ?? (err as Error).message);
      throw new HiveApiError(0, 'UNREACHABLE', `The Hive at ${this.baseUrl} cannot be reached: ${why}.`);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      throw new HiveApiError(res.status, 'BAD_ANSWER', `The Hive answered ${method} ${path} with ${res.status} and a body that is not JSON.`);
    }
    if (res.status >= 400) {
      const error = (parsed ?? {}) as { code?: string; message?: string; details?: unknown };
      throw new HiveApiError(res.status, error.code ?? `HTTP_${res.status}`, error.message ?? `${method} ${path} failed with ${res.status}.`, error.details);
    }
    return { status: res.status, body: parsed as T };
  }
}
