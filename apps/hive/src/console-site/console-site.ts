import { Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { gzipSync } from 'node:zlib';

/** The file types the Console's build produces; anything else in the folder is not served. */
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

/**
 * Everything the page may load comes from this Hive: no CDN, no inline script, no framing.
 * connect-src 'self' covers the same-origin socket.io WebSocket; worker-src the scrypt worker.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

interface Asset {
  body: Buffer;
  gzip: Buffer | null;
  type: string;
  etag: string;
  /** Vite names assets by content hash, so they never change under their name. */
  immutable: boolean;
}

/** The parts of Express's request and response the middleware uses. */
export interface SiteRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
}
export interface SiteResponse {
  status(code: number): SiteResponse;
  setHeader(name: string, value: string): unknown;
  end(body?: Buffer | string): unknown;
}

/** The Hive's own routes: the API, the device and Console sockets, and the Prometheus scrape target. */
const NOT_OURS = /^\/(api|socket\.io|metrics)(\/|$)/;

/**
 * The built Console (apps/console → dist/apps/console), read into memory once at boot and
 * served at `/`: only the files that were there then, so nothing written later (and no `..`)
 * can be reached. Unknown paths that are not files get index.html, the single page's routes.
 */
export class ConsoleSite {
  private readonly logger = new Logger('ConsoleSite');
  private readonly assets = new Map<string, Asset>();

  constructor(readonly dir: string) {
    if (!existsSync(join(dir, 'index.html'))) {
      this.logger.warn(`no Console at ${dir} (run npm run build): / answers 404`);
      return;
    }
    for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const file = join(entry.parentPath, entry.name);
      const type = TYPES[extname(file)];
      if (!type || statSync(file).size > 5 * 1024 * 1024) continue;
      const body = readFileSync(file);
      const path = `/${relative(dir, file).split(sep).join('/')}`;
      const gzip = /^text\/|svg|json/.test(type) ? gzipSync(body, { level: 9 }) : null;
      const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
      this.assets.set(path, { body, gzip, type, etag, immutable: path.startsWith('/assets/') });
    }
    this.logger.log(`serving the Console from ${dir} (${this.assets.size} files)`);
  }

  get built(): boolean {
    return this.assets.has('/index.html');
  }

  /** Express middleware: answers GET/HEAD for the Console, passes everything else on. */
  handle(request: SiteRequest, response: SiteResponse, next: () => void): void {
    if ((request.method !== 'GET' && request.method !== 'HEAD') || NOT_OURS.test(request.path)) return next();
    const asset = this.assets.get(request.path) ?? (request.path.startsWith('/assets/') ? undefined : this.assets.get('/index.html'));
    response.setHeader('X-Content-Type-Options', 'nosniff');
    response.setHeader('Referrer-Policy', 'no-referrer');
    if (!asset) {
      response.status(404).setHeader('Content-Type', 'text/plain; charset=utf-8');
      response.end(this.built ? 'Not found.\n' : 'The Console is not built: run npm run build.\n');
      return;
    }
    response.setHeader('Content-Type', asset.type);
    response.setHeader('ETag', asset.etag);
    response.setHeader('Cache-Control', asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    response.setHeader('Vary', 'Accept-Encoding');
    if (asset.type.startsWith('text/html')) {
      response.setHeader('Content-Security-Policy', CONSOLE_CSP);
      response.setHeader('X-Frame-Options', 'DENY');
    }
    if (request.headers['if-none-match'] === asset.etag) {
      response.status(304).end();
      return;
    }
    const acceptsGzip = /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
    const body = acceptsGzip && asset.gzip ? asset.gzip : asset.body;
    if (body === asset.gzip) response.setHeader('Content-Encoding', 'gzip');
    response.setHeader('Content-Length', String(body.length));
    response.status(200).end(request.method === 'HEAD' ? undefined : body);
  }
}
