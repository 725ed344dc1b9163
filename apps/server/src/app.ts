import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyCookie from '@fastify/cookie';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyRequest, LogController } from 'fastify';
import { jsonSchemaTransform, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import helmet from 'helmet';
import type { Redis } from 'ioredis';
import { errorBody, errorHandler } from './errors.js';
import { findUnstorableText } from './input-text.js';
import { type LogOptions, loggerOptions } from './logging.js';
import { createRequestCounter } from './metrics.js';
import { isCrossOrigin } from './origin.js';
import { authRoutes, loginRoutes, SESSION_COOKIE } from './routes/auth.routes.js';
import { conflictRoutes } from './routes/conflicts.routes.js';
import { folderRoutes } from './routes/folders.routes.js';
import { pairRoutes } from './routes/pairs.routes.js';
import { runRoutes } from './routes/runs.routes.js';
import { healthRoutes, metricsRoutes, serverInfoRoutes } from './routes/system.routes.js';
import { versionRoutes } from './routes/versions.routes.js';
import { compiledSerializerCompiler } from './serializer.js';
import type { AuthService } from './services/auth.service.js';
import type { ConflictService } from './services/conflict.service.js';
import type { FolderService } from './services/folder.service.js';
import type { PairService } from './services/pair.service.js';
import type { PairStatusService } from './services/pair-status.service.js';
import type { RunService } from './services/run.service.js';
import type { SystemService } from './services/system.service.js';
import type { VersionService } from './services/version.service.js';
import { sharedCounterStore } from './shared-counters.js';
import type { WsGateway } from './ws/gateway.js';

export const API_PREFIX = '/api/v1';

export interface ServerDeps {
  services: {
    auth: AuthService;
    pairs: PairService;
    folders: FolderService;
    pairStatus: PairStatusService;
    runs: RunService;
    conflicts: ConflictService;
    system: SystemService;
    versions: VersionService;
  };
  gateway: Pick<WsGateway, 'attach'>;
  /** Counts requests for `/metrics`; shared with the system service. */
  requestCounter?: ReturnType<typeof createRequestCounter>;
  /** The built dashboard (index.html + assets); served with an SPA fallback when it exists. */
  webDist?: string | undefined;
  cookieSecure?: boolean;
  logger?: LogOptions;
  /**
   * Redis, where counts of failed sign-ins are kept for every server process of a
   * deployment (under `prefix`); without it each process counts its own.
   */
  sharedCounters?: { redis: Redis; prefix: string } | undefined;
  /** Log every request (noisy; default only at the debug and trace levels). */
  logRequests?: boolean;
  version?: string;
}

/** Methods that change nothing, so a cross-origin one can do no harm. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const bearerOf = (request: FastifyRequest): string | undefined => {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1];
};

/**
 * The HTTP API, WebSocket gateway, OpenAPI docs and (when built) the dashboard, on one
 * Fastify app that is returned without listening: tests call `app.inject()`.
 */
export async function buildServer(deps: ServerDeps) {
  const app = Fastify({
    logger: loggerOptions(deps.logger),
    logController: new LogController({
      disableRequestLogging: !(
        deps.logRequests ??
        (typeof deps.logger === 'object' && ['debug', 'trace'].includes(deps.logger.level))
      ),
    }),
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{1,128}$/.test(given) ? given : randomUUID();
    },
    bodyLimit: 1_048_576,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(compiledSerializerCompiler);
  app.setErrorHandler(errorHandler);
  app.decorateRequest('user', null);

  // Browsers attach the session cookie to requests that other sites' pages send here: a
  // request that changes something is refused when it comes from another origin, unless
  // it authenticates with a bearer token (which a browser never adds by itself).
  app.addHook('onRequest', async (request, reply) => {
    if (SAFE_METHODS.has(request.method) || bearerOf(request) || !isCrossOrigin(request)) return;
    return reply
      .code(403)
      .send(
        errorBody(
          request,
          403,
          'cross-origin request refused: use the dashboard on this server, or send Authorization: Bearer <token>',
        ),
      );
  });

  // NUL characters and unpaired surrogates fit no database text nor file name: refused in
  // every part of every request, naming the field, before any route sees them.
  app.addHook('preValidation', async (request, reply) => {
    const found =
      findUnstorableText(request.params, 'params') ??
      findUnstorableText(request.query, 'querystring') ??
      findUnstorableText(request.body, 'body');
    if (!found) return;
    return reply
      .code(400)
      .send(
        errorBody(request, 400, `${found.path}: ${found.message}`, { code: 'VALIDATION', issues: [found] }),
      );
  });

  const counter = deps.requestCounter ?? createRequestCounter();
  app.addHook('onSend', async (request, reply, payload) => {
    reply.header('x-request-id', request.id);
    return payload;
  });
  app.addHook('onResponse', async (request, reply) => {
    counter.record(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode);
  });

  await app.register(fastifyCookie);
  // Limits are applied where they are declared (failed sign-ins), not to every route.
  await app.register(fastifyRateLimit, {
    global: false,
    ...(deps.sharedCounters
      ? { store: sharedCounterStore(deps.sharedCounters.redis, `${deps.sharedCounters.prefix}:rate-limit:`) }
      : {}),
  });
  await app.register(fastifyWebsocket, { options: { maxPayload: 64 * 1024 } });
  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'SyncEngine API',
        version: deps.version ?? '0.1.0',
        description:
          'Sync pairs, runs and conflicts. Authenticate with the session cookie from POST /api/v1/auth/login, or `Authorization: Bearer <token>` from POST /api/v1/tokens. Live events: WebSocket /api/v1/ws.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE },
        },
      },
      security: [{ bearer: [] }, { session: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  // Helmet's headers are worked out once here; each request only sets them (building the
  // middleware per request, as the Fastify plugin does, parses the policy every time).
  const setSecurityHeaders = helmet({
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        // The dashboard's bundles, and the API docs' inline start-up script by its hash.
        scriptSrc: ["'self'", ...app.swaggerCSP.script],
        // The dashboard's component library adds <style> elements at run time.
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        frameAncestors: ["'none'"],
        formAction: ["'self'"],
        // Served over plain HTTP on a LAN as often as behind TLS: never rewrite to https.
        upgradeInsecureRequests: null,
      },
    },
    frameguard: { action: 'deny' },
    // Only where the operator says the server is reached over HTTPS.
    hsts: deps.cookieSecure ? { maxAge: 15_552_000 } : false,
  });
  app.addHook('onRequest', (request, reply, done) =>
    setSecurityHeaders(request.raw, reply.raw, (error) =>
      done(error === undefined || error instanceof Error ? error : new Error(String(error))),
    ),
  );

  const { services } = deps;
  await app.register(
    async (api) => {
      const zapi = api.withTypeProvider<ZodTypeProvider>();
      healthRoutes(zapi, services);
      loginRoutes(zapi, { auth: services.auth, cookieSecure: deps.cookieSecure ?? false });

      await zapi.register(async (secured) => {
        const zsecured = secured.withTypeProvider<ZodTypeProvider>();
        zsecured.addHook('onRequest', async (request, reply) => {
          const bearer = bearerOf(request);
          const user = await services.auth.authenticate({
            bearer,
            sessionToken: request.cookies[SESSION_COOKIE],
          });
          if (!user) {
            return reply
              .code(401)
              .send(
                errorBody(
                  request,
                  401,
                  'authentication required: sign in or send Authorization: Bearer <token>',
                ),
              );
          }
          if (!bearer && request.headers.upgrade?.toLowerCase() === 'websocket' && isCrossOrigin(request)) {
            // Browsers send the session cookie with cross-origin WebSocket handshakes too.
            return reply
              .code(403)
              .send(errorBody(request, 403, 'WebSocket connections from other origins are refused'));
          }
          request.user = user;
        });
        authRoutes(zsecured, services);
        pairRoutes(zsecured, services);
        runRoutes(zsecured, services);
        conflictRoutes(zsecured, services);
        versionRoutes(zsecured, services);
        metricsRoutes(zsecured, services);
        serverInfoRoutes(zsecured, services);
        folderRoutes(zsecured, services);
        zsecured.get('/ws', { websocket: true, schema: { hide: true } }, (socket, request) => {
          void deps.gateway.attach(socket, {
            userId: request.user!.id,
            bearer: bearerOf(request),
            sessionToken: request.cookies[SESSION_COOKIE],
          });
        });
      });
    },
    { prefix: API_PREFIX },
  );
  // Liveness for load balancers and container health checks, outside the API prefix.
  app.get('/health', { schema: { hide: true } }, async (_request, reply) => {
    const health = await services.system.health();
    return reply.code(health.status === 'ok' ? 200 : 503).send(health);
  });

  const webDist = deps.webDist;
  const hasDashboard = webDist !== undefined && existsSync(join(webDist, 'index.html'));
  if (hasDashboard) {
    await app.register(fastifyStatic, { root: webDist, wildcard: false });
  } else {
    app.get('/', { schema: { hide: true } }, async (_request, reply) =>
      reply
        .type('text/plain; charset=utf-8')
        .send('SyncEngine API: /api/v1 (documentation at /docs). The dashboard is not built.\n'),
    );
  }
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    if (hasDashboard && request.method === 'GET' && !path.startsWith('/api/') && path !== '/api') {
      return reply.sendFile('index.html');
    }
    return reply.code(404).send(errorBody(request, 404, `no route for ${request.method} ${path}`));
  });

  return app;
}
export type SyncEngineServer = Awaited<ReturnType<typeof buildServer>>;
