import { Inject, Injectable, Logger } from '@nestjs/common';
import { ClassConstructor } from 'class-transformer';
import { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode, Patterns, ProtocolError, ProtocolException, describeProblems, protocolError, validatePayload } from '@mosaic/protocol';
import { PLUGIN_VERSION } from '../common/plugin-version';
import { PLUGIN_CONFIG, PluginConfig } from '../config/plugin-config';
import { readBody, sendJson } from '../http/unix-socket-server';
import { KeyRegistry } from '../keys/key-registry.service';
import { PluginMetrics } from '../metrics/plugin-metrics';
import { VOLUME_NAME_PATTERN } from '../volumes/volume-record';
import { VolumesService } from '../volumes/volumes.service';
import { CreateVolumeDto } from './dto/create-volume.dto';
import { RegisterKeyDto } from './dto/register-key.dto';
import { StageVolumeDto } from './dto/stage-volume.dto';

export const CONTROL_BODY_LIMIT = 64 * 1024;

/** The HTTP status of each error code the control API answers with. */
export const STATUS_OF: Record<string, number> = {
  [ErrorCode.INVALID_PARAMS]: 400,
  [ErrorCode.NOT_FOUND]: 404,
  [ErrorCode.KEYS_MISSING]: 409,
  [ErrorCode.NOT_WRITER]: 409,
  [ErrorCode.BUSY]: 409,
  [ErrorCode.RESTORE_FAILED]: 500,
  [ErrorCode.INTERNAL]: 500,
  [ErrorCode.REPLICATION_FAILED]: 502,
  [ErrorCode.STORAGE_UNAVAILABLE]: 503,
};

interface Request {
  params: Record<string, string>;
  query: URLSearchParams;
  req: IncomingMessage;
  res: ServerResponse;
}

/** What a route answers: a JSON body with a status, or nothing when it wrote the response itself. */
type Answer = { status: number; body: unknown } | undefined;

interface Route {
  method: string;
  pattern: RegExp;
  handle: (request: Request) => Promise<Answer>;
}

function invalid(message: string, details?: unknown): ProtocolException {
  return new ProtocolException(ErrorCode.INVALID_PARAMS, message, details);
}

/**
 * The control API for the Device: HTTP+JSON on STORAGE_PLUGIN_SOCKET. Errors are
 * `{ code, message, details? }` with a 4xx/5xx status; bodies are validated by DTOs, unknown
 * fields refused.
 */
@Injectable()
export class ControlApiRouter {
  private readonly logger = new Logger('ControlApi');
  private readonly routes: Route[] = [
    { method: 'GET', pattern: /^\/health$/, handle: async () => this.health() },
    { method: 'GET', pattern: /^\/metrics$/, handle: (r) => this.metricsText(r) },
    { method: 'GET', pattern: /^\/keys$/, handle: async () => ({ status: 200, body: this.keys.fingerprints() }) },
    { method: 'PUT', pattern: /^\/keys\/(?<fingerprint>[^/]+)$/, handle: (r) => this.registerKey(r) },
    { method: 'DELETE', pattern: /^\/keys\/(?<fingerprint>[^/]+)$/, handle: async (r) => this.forgetKey(r) },
    { method: 'GET', pattern: /^\/volumes$/, handle: async () => ({ status: 200, body: await this.volumes.list() }) },
    { method: 'POST', pattern: /^\/volumes$/, handle: (r) => this.createVolume(r) },
    {
      method: 'GET',
      pattern: /^\/volumes\/(?<name>[^/]+)$/,
      handle: async (r) => ({ status: 200, body: await this.volumes.view(this.volumeName(r)) }),
    },
    { method: 'POST', pattern: /^\/volumes\/(?<name>[^/]+)\/replicate$/, handle: (r) => this.replicate(r) },
    {
      method: 'GET',
      pattern: /^\/volumes\/(?<name>[^/]+)\/writer$/,
      handle: async (r) => ({ status: 200, body: await this.volumes.writer(this.volumeName(r)) }),
    },
    { method: 'POST', pattern: /^\/volumes\/(?<name>[^/]+)\/stage$/, handle: (r) => this.stage(r) },
    { method: 'DELETE', pattern: /^\/volumes\/(?<name>[^/]+)\/stage$/, handle: (r) => this.discardStage(r) },
    { method: 'DELETE', pattern: /^\/volumes\/(?<name>[^/]+)$/, handle: (r) => this.removeVolume(r) },
  ];

  constructor(
    @Inject(PLUGIN_CONFIG) private readonly config: PluginConfig,
    private readonly volumes: VolumesService,
    private readonly keys: KeyRegistry,
    private readonly metrics: PluginMetrics,
  ) {}

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://control');
    const path = url.pathname;
    const matching = this.routes.filter((r) => r.pattern.test(path));
    const route = matching.find((r) => r.method === req.method);
    try {
      if (!route) {
        if (matching.length)
          throw new RouteError(405, `${req.method} is not allowed on ${path}; use ${matching.map((r) => r.method).join(' or ')}.`);
        throw new ProtocolException(ErrorCode.NOT_FOUND, `No route ${req.method} ${path.slice(0, 200)}.`);
      }
      const params: Record<string, string> = {};
      for (const [key, value] of Object.entries(route.pattern.exec(path)?.groups ?? {})) params[key] = decodeURIComponent(value);
      const answer = await route.handle({ params, query: url.searchParams, req, res });
      if (answer) sendJson(res, answer.status, answer.body);
    } catch (err) {
      if (err instanceof RouteError) return sendJson(res, err.status, protocolError(ErrorCode.NOT_FOUND, err.message));
      const error = this.toError(err);
      if ((STATUS_OF[error.code] ?? 500) >= 500) this.logger.warn(`${req.method} ${path}: ${error.code} ${error.message}`);
      if (res.headersSent) res.end(`${JSON.stringify({ error })}\n`);
      else sendJson(res, STATUS_OF[error.code] ?? 500, error);
    }
  }

  /** Prometheus text, as STORAGE_METRICS_ADDRESS serves it too. */
  private async metricsText({ res }: Request): Promise<Answer> {
    const text = await this.metrics.registry.metrics();
    res.writeHead(200, { 'Content-Type': this.metrics.registry.contentType, 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
    return undefined;
  }

  /** The answer of GET /health, which STORAGE_METRICS_ADDRESS serves too. */
  health(): { status: number; body: unknown } {
    return {
      status: 200,
      body: {
        ok: true,
        version: PLUGIN_VERSION,
        driver: this.config.driver,
        volumes: this.volumes.count(),
        keys: this.keys.fingerprints().length,
      },
    };
  }

  private async registerKey(request: Request): Promise<Answer> {
    const fingerprint = this.fingerprint(request);
    const body = await this.body(request.req, RegisterKeyDto);
    await this.keys.register(fingerprint, body.privateKey);
    return { status: 200, body: { fingerprint } };
  }

  private forgetKey(request: Request): Answer {
    const fingerprint = this.fingerprint(request);
    if (!this.keys.unregister(fingerprint)) throw new ProtocolException(ErrorCode.NOT_FOUND, `No key ${fingerprint} is registered.`);
    return { status: 200, body: { fingerprint } };
  }

  /**
   * Answers NDJSON (200): `{"stage":"restore","percent":N}` lines while a replica is restored,
   * then `{"volume":{…}}` or, once a line was sent, `{"error":{code,message}}`. A failure before
   * the first line is an ordinary error answer with its status.
   */
  private async createVolume({ req, res }: Request): Promise<Answer> {
    const body = await this.body(req, CreateVolumeDto);
    return this.streamed(res, 'restore', async (progress) => ({ volume: await this.volumes.create(body, progress) }));
  }

  /** Same NDJSON answer as POST /volumes: `{"stage":"stage","percent":N}` lines, then `{"staged":{…}}`. */
  private async stage(request: Request): Promise<Answer> {
    const name = this.volumeName(request);
    const body = await this.body(request.req, StageVolumeDto);
    return this.streamed(request.res, 'stage', async (progress) => ({ staged: await this.volumes.stage(name, body.fingerprint, progress) }));
  }

  private async discardStage(request: Request): Promise<Answer> {
    await this.emptyBody(request);
    const name = this.volumeName(request);
    return { status: 200, body: { name, discarded: await this.volumes.discardStage(name) } };
  }

  /**
   * Long work answered as NDJSON (200): progress lines `{"stage","percent"}` while it runs, then its
   * outcome as one line; a failure after the first line is a `{"error"}` line (handle() writes it).
   */
  private async streamed(res: ServerResponse, stage: string, work: (progress: (percent: number) => void) => Promise<object>): Promise<Answer> {
    const line = (value: unknown) => {
      if (!res.headersSent) res.writeHead(200, { 'Content-Type': 'application/x-ndjson', 'Cache-Control': 'no-store' });
      res.write(`${JSON.stringify(value)}\n`);
    };
    line(await work((percent) => line({ stage, percent })));
    res.end();
    return undefined;
  }

  private async replicate(request: Request): Promise<Answer> {
    await this.emptyBody(request);
    return { status: 200, body: await this.volumes.replicate(this.volumeName(request)) };
  }

  private async removeVolume(request: Request): Promise<Answer> {
    const unknown = [...request.query.keys()].filter((k) => k !== 'replica');
    if (unknown.length) throw invalid(`Unknown query parameter(s): ${unknown.join(', ')}.`);
    const flag = request.query.get('replica') ?? 'false';
    if (!['true', 'false'].includes(flag)) throw invalid('replica must be true or false.');
    const name = this.volumeName(request);
    await this.volumes.remove(name, { replica: flag === 'true' });
    return { status: 200, body: { name, removed: true, replicaRemoved: flag === 'true' } };
  }

  private fingerprint({ params }: Request): string {
    if (!Patterns.fingerprint.test(params.fingerprint)) throw invalid('The fingerprint in the path must be 40 lower-case hex digits.');
    return params.fingerprint;
  }

  private volumeName({ params }: Request): string {
    if (!VOLUME_NAME_PATTERN.test(params.name)) throw invalid(`"${params.name.slice(0, 140)}" is not a valid volume name.`);
    return params.name;
  }

  private async body<T extends object>(req: IncomingMessage, dto: ClassConstructor<T>): Promise<T> {
    const checked = validatePayload(dto, await this.json(req));
    if (!checked.ok) throw invalid(`Invalid request body: ${describeProblems(checked.details)}.`, checked.details);
    return checked.value;
  }

  /** Routes that take no body accept none, or `{}`. */
  private async emptyBody({ req }: Request): Promise<void> {
    const value = await this.json(req, true);
    if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value) || Object.keys(value).length)) {
      throw invalid('This route takes no request body (or {}).');
    }
  }

  private async json(req: IncomingMessage, emptyAllowed = false): Promise<unknown> {
    const read = await readBody(req, CONTROL_BODY_LIMIT);
    if (!read.ok)
      throw invalid(
        read.reason === 'too-large' ? `The request body is larger than ${CONTROL_BODY_LIMIT} bytes.` : 'The request body is incomplete.',
      );
    const text = read.body.toString('utf8');
    if (text.trim() === '') {
      if (emptyAllowed) return undefined;
      throw invalid('A JSON request body is required.');
    }
    try {
      return JSON.parse(text);
    } catch {
      throw invalid('The request body is not valid JSON.');
    }
  }

  private toError(err: unknown): ProtocolError {
    if (err instanceof ProtocolException) return err.toJSON();
    this.logger.error(`unexpected: ${(err as Error)?.stack ?? err}`);
    return protocolError(ErrorCode.INTERNAL, 'Unexpected failure.');
  }
}

/** A path that exists, with another method (405). */
class RouteError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
