import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

/**
 * The plugin's own requests to a restic REST server (restic's REST protocol, v2), for what it reads
 * or writes there without restic: snapshot ids (SnapshotIdsAdapter) and key files (KeyStoreAdapter).
 */

/** restic reaches a REST server through these; the plugin's own HTTP client would not: restic alone goes there. */
const REST_SETTINGS_RESTIC_ONLY = /^(RESTIC_CACERT|RESTIC_TLS_CLIENT_CERT|SSL_CERT_FILE|SSL_CERT_DIR|HTTPS?_PROXY|https?_proxy)$/;

/** A `rest:` repository's address as the plugin reaches it: the URL (ending in `/`, no credentials) and its basic auth. */
export interface RestRepository {
  base: URL;
  auth: string | undefined;
}

/**
 * The repository behind `rest:<address>`, or undefined when the plugin cannot reach it as restic
 * does (a proxy, a custom CA or client certificate in restic's environment, or no http(s) URL).
 */
export function restRepository(address: string, resticEnv: Record<string, string>): RestRepository | undefined {
  if (Object.keys(resticEnv).some((name) => REST_SETTINGS_RESTIC_ONLY.test(name))) return undefined;
  const base = new URL(address.endsWith('/') ? address : `${address}/`);
  if (base.protocol !== 'http:' && base.protocol !== 'https:') return undefined;
  const auth = base.username ? `${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}` : undefined;
  base.username = '';
  base.password = '';
  return { base, auth };
}

export interface StoreAnswer {
  status: number;
  /** The body of a 2xx answer (empty for any other). */
  body: Buffer;
}

/**
 * One request with a deadline on the whole call (not only on silence): at most `deadlineMs`, and a
 * 2xx body of at most `maxBytes` (a larger one fails the call).
 */
export function storeRequest(
  repo: RestRepository,
  path: string,
  options: { method: 'GET' | 'POST' | 'DELETE'; body?: Buffer; deadlineMs: number; maxBytes: number },
): Promise<StoreAnswer> {
  const url = new URL(path, repo.base);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const headers: Record<string, string | number> = { Accept: 'application/vnd.x.restic.rest.v2' };
  if (options.body) {
    headers['Content-Type'] = 'application/octet-stream';
    headers['Content-Length'] = options.body.length;
  }
  return new Promise<StoreAnswer>((resolveAnswer, rejectAnswer) => {
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${options.deadlineMs} ms`)), options.deadlineMs);
    const resolve = (answer: StoreAnswer) => {
      clearTimeout(timer);
      resolveAnswer(answer);
    };
    const reject = (err: Error) => {
      clearTimeout(timer);
      rejectAnswer(err);
    };
    const req = request(url, { method: options.method, auth: repo.auth, headers, agent: false }, (res) => {
      const status = res.statusCode ?? 0;
      if (status < 200 || status > 299) {
        res.resume();
        res.on('end', () => resolve({ status, body: Buffer.alloc(0) }));
        res.on('error', reject);
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > options.maxBytes) req.destroy(new Error(`answer larger than ${options.maxBytes} bytes`));
        else chunks.push(chunk);
      });
      res.on('end', () => resolve({ status, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}
