import { Logger } from '@nestjs/common';
import { chmodSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { connect } from 'node:net';
import { dirname } from 'node:path';

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** Owner and group may connect; nobody else (the sockets are the plugin's whole authority). */
export const SOCKET_MODE = 0o660;
/** Past this, an oversized request body is no longer drained for a clean answer: the connection is cut. */
const DRAIN_LIMIT = 16 * 1024 * 1024;

export type BodyResult = { ok: true; body: Buffer } | { ok: false; reason: 'too-large' | 'aborted' };

/**
 * Reads a request body up to `limit` bytes. A longer one is drained (so the client can read the
 * answer) but not kept, up to a hard limit past which the connection is closed.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > DRAIN_LIMIT) {
        req.destroy();
        resolve({ ok: false, reason: 'too-large' });
      } else if (size > limit) {
        tooLarge = true;
        chunks.length = 0;
      } else {
        chunks.push(chunk);
      }
    });
    req.on('end', () => resolve(tooLarge ? { ok: false, reason: 'too-large' } : { ok: true, body: Buffer.concat(chunks) }));
    req.on('error', () => resolve({ ok: false, reason: 'aborted' }));
    req.on('close', () => resolve({ ok: false, reason: 'aborted' }));
  });
}

export function sendJson(res: ServerResponse, status: number, body: unknown, contentType = 'application/json'): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** Is something answering on this socket path? */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * An HTTP server on a unix socket: parent directories made, a stale socket file removed (a live
 * one is an error: another plugin serves it), mode 0660, the file removed again on close.
 */
export class UnixSocketServer {
  private readonly logger: Logger;
  private server?: Server;

  constructor(
    readonly name: string,
    readonly path: string,
    private readonly listener: RequestListener,
  ) {
    this.logger = new Logger(name);
  }

  async listen(): Promise<void> {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o750 });
    await this.removeStale();
    const server = createServer((req, res) => {
      this.listener(req, res).catch((err: Error) => {
        this.logger.error(`unhandled failure on ${req.method} ${req.url}: ${err.message}`);
        if (!res.headersSent) sendJson(res, 500, { code: 'INTERNAL', message: 'Unexpected failure.' });
        else res.destroy();
      });
    });
    server.headersTimeout = 30_000;
    server.requestTimeout = 60_000;
    // The socket is created with the umask's mode; narrow the umask so it is never wider than 0660.
    const umask = process.umask(0o117);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.path, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } finally {
      process.umask(umask);
    }
    chmodSync(this.path, SOCKET_MODE);
    this.server = server;
    this.logger.log(`listening on ${this.path}`);
  }

  /** Stops accepting connections; requests in flight go on. */
  stopAccepting(): void {
    if (!this.server?.listening) return;
    this.server.close();
    this.server.closeIdleConnections();
  }

  /** Ends every connection and removes the socket file. */
  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    try {
      unlinkSync(this.path);
    } catch {
      // Already gone (close() of a node server removes it): nothing to do.
    }
  }

  private async removeStale(): Promise<void> {
    let isSocket: boolean;
    try {
      isSocket = lstatSync(this.path).isSocket();
    } catch {
      return;
    }
    if (!isSocket) throw new Error(`${this.path} exists and is not a socket; refusing to replace it`);
    if (await answers(this.path)) throw new Error(`${this.path} is served by another process`);
    unlinkSync(this.path);
    this.logger.warn(`removed the stale socket ${this.path}`);
  }
}
