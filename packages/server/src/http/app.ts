import { randomUUID } from 'node:crypto'
import { AjvCompiler } from '@fastify/ajv-compiler'
import { fastifyCookie } from '@fastify/cookie'
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import { adminRoutes } from '../admin/index.js'
import {
  apiKeyRoutes,
  authentication,
  authRoutes,
  CsrfTokens,
  cookieMode,
  emailFlowsRoutes,
  impersonationRoutes,
  mfaRoutes,
  oauth2Routes,
  recordSessionsRoutes,
} from '../auth/index.js'
import { BackupService, backupsRoutes, type Restart } from '../backups/index.js'
import { readCaching } from '../cache/index.js'
import { collectionsRoutes } from '../collections/index.js'
import type { PlinthConfig } from '../config/index.js'
import { type Core, createCore, setupLinkFor, systemMigrations } from '../core/index.js'
import { PlinthError } from '../errors/index.js'
import { webhooksRoutes } from '../events/index.js'
import { projectRoutes } from '../extensions/index.js'
import { filesRoutes } from '../files/index.js'
import { idempotency } from '../idempotency/index.js'
import { cronsRoutes, jobsRoutes } from '../jobs/index.js'
import { logsRoutes, requestLogCapture } from '../logs/index.js'
import { httpMetrics, metricsRoutes } from '../metrics/index.js'
import { openapiRoutes } from '../openapi/index.js'
import { realtimeRoutes } from '../realtime/index.js'
import { batchRoutes, recordsRoutes, writeStickiness } from '../records/index.js'
import { security, securityHeadersFor } from '../security/index.js'
import { settingsRoutes } from '../settings/index.js'
import { healthRoutes, type Lifecycle } from './health.js'
import { compiledOnFirstUse } from './lazy-validators.js'
import { refuseNulCharacters } from './nul-character.js'
import { problemHandling, sendProblem } from './problem.js'

const REQUEST_ID = /^[A-Za-z0-9._-]{1,100}$/

/** What a running Plinth is made of: its core, and the state of the HTTP server. */
export interface Plinth extends Core {
  lifecycle: Lifecycle
  /** The first-run link, when no superuser exists yet. */
  setupLink: string | null
}

declare module 'fastify' {
  interface FastifyInstance {
    plinth: Plinth
  }
}

/** What the one running the app offers it. */
export interface AppOptions {
  /** Replaces the app with a new one on the same config (`plinth serve`); without it, a backup cannot be restored over HTTP. */
  restart?: Restart
}

/**
 * Builds the whole server without listening, so the CLI listens and tests inject.
 * Two apps in one process share nothing.
 */
export async function createApp(config: PlinthConfig, options: AppOptions = {}): Promise<FastifyInstance> {
  const core = await createCore(config)
  try {
    return await buildHttpApp(core, options)
  } catch (error) {
    await core.close()
    throw error
  }
}

/**
 * One validator compiler for every app of the process. Route schemas are module constants,
 * and its Ajv keeps what it compiled by schema, so an app built again (a restart in
 * place, every test) does not compile them again.
 */
const buildValidator = compiledOnFirstUse(AjvCompiler())

/** Binds the routes onto a core; closing the app closes the core. */
async function buildHttpApp(core: Core, options: AppOptions): Promise<FastifyInstance> {
  const { config, dialect, registry, collections, records, auth, box } = core
  const csrf = new CsrfTokens(core.instanceSecret)
  const lifecycle: Lifecycle = { isDraining: false, isClosing: false }
  const headers = securityHeadersFor(config)

  const app = Fastify({
    loggerInstance: core.log as FastifyBaseLogger,
    bodyLimit: config.bodyLimit,
    trustProxy: config.trustProxy,
    // Ids are read in genReqId, which checks what a client sends before trusting it.
    requestIdHeader: false,
    genReqId: (request) => {
      const given = request.headers['x-request-id']
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID()
    },
    return503OnClosing: true,
    ajv: {
      customOptions: { removeAdditional: false, coerceTypes: false, allErrors: true, useDefaults: false },
    },
    schemaController: { compilersFactory: { buildValidator } },
    routerOptions: { maxParamLength: 200 },
    // A URL the router cannot decode fails before any hook runs, so this answer sets its own headers.
    frameworkErrors(error, request, reply) {
      reply.headers(headers).header('x-request-id', request.id)
      const status = error.statusCode && error.statusCode < 500 ? error.statusCode : 400
      sendProblem(reply, new PlinthError(status, 'bad_request', 'The URL is not valid.'))
    },
  })
  // JSON is the only body the API reads; anything else is a 415, not a string handed to a route.
  app.removeContentTypeParser(['text/plain'])
  app.decorate('plinth', { ...core, lifecycle, setupLink: await setupLinkFor(core) } satisfies Plinth)
  app.addHook('onReady', async function startJobs() {
    core.jobs.start()
    await core.realtime.start()
    core.events.start()
    core.brokers.start()
    core.webhooks.worker.start()
  })
  // First of the request hooks, so every later hook, the route and its statements run in the span.
  if (core.tracing) await app.register(core.tracing.http)
  // Hooks that run on every request take a callback: an async hook costs a promise
  // and a microtask per request even when it has nothing to do.
  app.addHook('onRequest', function echoRequestId(request, reply, done) {
    reply.header('x-request-id', request.id)
    done()
  })
  refuseNulCharacters(app)
  // While closing, each answer closes its connection: a keep-alive socket that turns
  // idle after shutdown began would otherwise hold the server open until it times out.
  app.addHook('onSend', function closeWhileClosing(_request, reply, payload, done) {
    if (lifecycle.isClosing) reply.header('connection', 'close')
    done(null, payload)
  })
  // server.close() closes only the keep-alive connections idle at that moment. One whose
  // answer was still streaming (a file: its last byte leaves before the stream ends) would
  // hold close() for the whole keep-alive timeout, longer than a shutdown may take.
  let closeIdleSweep: NodeJS.Timeout | undefined
  app.addHook('preClose', function closeConnectionsAsTheyIdle(done) {
    // A draining server may have closed its listening socket already (cli/serve.ts).
    if (app.server.listening || lifecycle.isDraining)
      closeIdleSweep = setInterval(() => app.server.closeIdleConnections(), 100).unref()
    done()
  })
  // The last onClose hook to run: the worker stops after the routes queued their last mails.
  app.addHook('onClose', async function closeCore() {
    clearInterval(closeIdleSweep)
    await core.close()
  })

  await app.register(problemHandling, {
    bodyLimit: config.bodyLimit,
    isStaleSchema(error) {
      if (!dialect.isStaleSchema(error)) return false
      // The change may have come from another node: learn it now, not at the next restart.
      collections.load().catch((reason) => app.log.error({ err: reason }, 'reloading collections failed'))
      return true
    },
  })
  // A collection another node made a moment ago is not in this node's registry until its notice
  // arrives: a name this node does not know sends it to the database once before the route answers.
  app.addHook('onRequest', async function learnCollectionsMadeElsewhere(request) {
    const name = (request.params as { collection?: unknown }).collection
    if (typeof name === 'string' && registry.get(name) === undefined) await collections.reloadIfChanged()
  })
  await app.register(security, {
    config,
    headers,
    isAuthCollection: (name) => registry.get(name)?.type === 'auth',
    state: core.state,
  })
  // Before the routes and the sign-in check, so every answer is counted, refusals too.
  await app.register(httpMetrics, { metrics: core.metrics })
  await app.register(fastifyCookie)
  await app.register(authentication, { tokens: auth.tokens, csrf, apiKeys: auth.apiKeys })
  await app.register(writeStickiness, { reads: core.reads })
  if (core.requestLogs.writer) await app.register(requestLogCapture, { writer: core.requestLogs.writer })
  await app.register(cookieMode, {
    csrf,
    secure: isSecureOrigin(config.publicUrl),
    tokenTtl: config.tokenTtl,
    sessionTtl: config.sessionTtl,
  })
  await app.register(idempotency, { db: dialect.db })
  await app.register(healthRoutes, { dialect, state: core.state, lifecycle, replicas: core.reads })
  await app.register(collectionsRoutes, { collections })
  await app.register(readCaching, { cache: core.readCache, httpMaxAge: config.cache.httpMaxAge })
  await app.register(recordsRoutes, { records, files: core.files, reads: core.reads })
  await app.register(batchRoutes, { records, files: core.files })
  await app.register(authRoutes, { csrf, db: dialect.db, records, ...auth })
  await app.register(openapiRoutes, { collections })
  await app.register(jobsRoutes, { jobs: core.jobs })
  await app.register(cronsRoutes, { jobs: core.jobs })
  await app.register(metricsRoutes, { metrics: core.metrics, token: config.metrics.token })
  await app.register(logsRoutes, { store: core.requestLogs.store })
  await app.register(filesRoutes, { files: core.files, records, registry, tokens: auth.tokens })
  await app.register(webhooksRoutes, { webhooks: core.webhooks.service })
  await app.register(backupsRoutes, {
    backups: new BackupService(config, dialect, systemMigrations(), core.log),
    tokens: auth.tokens,
    restart: options.restart ?? null,
    maxUploadBytes: config.files.maxUploadBytes,
  })
  await app.register(settingsRoutes, { config, registry, log: core.log })
  await app.register(realtimeRoutes)
  await app.register(oauth2Routes, { dialect, box, records, signIn: auth.signIn, audit: auth.audit })
  await app.register(impersonationRoutes, { records, ...auth })
  await app.register(recordSessionsRoutes, {
    records,
    sessions: auth.sessions,
    audit: auth.audit,
    db: dialect.db,
  })
  await app.register(apiKeyRoutes, { apiKeys: auth.apiKeys, reauthWindow: config.reauthWindow })
  await app.register(mfaRoutes, {
    mfa: auth.mfa,
    records,
    signIn: auth.signIn,
    audit: auth.audit,
    reauthWindow: config.reauthWindow,
  })
  await app.register(emailFlowsRoutes, {
    ...auth,
    dialect,
    records,
    mailer: core.mailer,
    publicUrl: config.publicUrl,
    appName: config.appName,
  })
  await app.register(adminRoutes)
  // Last, so a project route that repeats one of Plinth's fails start-up rather than shadowing it.
  await app.register(projectRoutes, {
    routes: core.project.routes ?? [],
    records,
    mailer: core.mailer,
    jobs: core.jobs,
  })
  return app
}

/** Browsers keep Secure cookies for https, and for localhost even over http. */
function isSecureOrigin(publicUrl: string): boolean {
  const url = new URL(publicUrl)
  return url.protocol === 'https:' || ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)
}
