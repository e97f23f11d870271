import { randomUUID } from 'node:crypto'
import { fastifyCookie } from '@fastify/cookie'
import Fastify, { type FastifyInstance } from 'fastify'
import {
  type AuthServices,
  apiKeyRoutes,
  authentication,
  authRoutes,
  CsrfTokens,
  cookieMode,
  createAuthServices,
  createSetupLink,
  emailFlowsRoutes,
  endSessionsOnNewPassword,
  forgetAuthCollection,
  impersonationRoutes,
  mfaRoutes,
  oauth2Routes,
} from '../auth/index.js'
import { CollectionRegistry, CollectionService, collectionsRoutes } from '../collections/index.js'
import type { PlinthConfig } from '../config/index.js'
import { loadInstanceSecret, SecretBox } from '../crypto/index.js'
import { type Dialect, openDatabase, runSystemMigrations } from '../db/index.js'
import { PlinthError } from '../errors/index.js'
import { idempotency, pruneIdempotencyKeys } from '../idempotency/index.js'
import { createMailer } from '../mail/index.js'
import { openapiRoutes } from '../openapi/index.js'
import { batchRoutes, RecordService, recordsRoutes } from '../records/index.js'
import { checkRules } from '../rules/index.js'
import { security, securityHeadersFor } from '../security/index.js'
import { healthRoutes, type Lifecycle } from './health.js'
import { loggerOptions } from './logging.js'
import { refuseNulCharacters } from './nul-character.js'
import { problemHandling, sendProblem } from './problem.js'
import { systemMigrations } from './system-migrations.js'

const REQUEST_ID = /^[A-Za-z0-9._-]{1,100}$/

/** What a running Plinth is made of; tests and the CLI reach the services through it. */
export interface Plinth {
  config: PlinthConfig
  dialect: Dialect
  collections: CollectionService
  records: RecordService
  auth: AuthServices
  lifecycle: Lifecycle
  /** The first-run link, when no superuser exists yet. */
  setupLink: string | null
}

declare module 'fastify' {
  interface FastifyInstance {
    plinth: Plinth
  }
}

/** Opens the database, brings Plinth's own tables up to date and loads the collections. */
export async function openPlinthDatabase(config: PlinthConfig) {
  const dialect = await openDatabase(config)
  const registry = new CollectionRegistry()
  const collections = new CollectionService(dialect, registry, checkRules(dialect))
  // Here rather than in createApp, so the CLI's schema import and migrations clean up too.
  collections.onDrop(forgetAuthCollection)
  try {
    await runSystemMigrations(dialect, systemMigrations(collections))
    await collections.load()
  } catch (error) {
    await dialect.close()
    throw error
  }
  const records = new RecordService(dialect, registry)
  endSessionsOnNewPassword(dialect, records)
  return { dialect, registry, collections, records }
}

/**
 * Builds the whole server without listening, so the CLI listens and tests inject.
 * Two apps in one process share nothing.
 */
export async function createApp(config: PlinthConfig): Promise<FastifyInstance> {
  const { dialect, registry, collections, records } = await openPlinthDatabase(config)
  const instanceSecret = loadInstanceSecret(config.secret, config.dataDir)
  const box = new SecretBox(instanceSecret)
  const csrf = new CsrfTokens(instanceSecret)
  const auth = await createAuthServices(dialect, registry, records, box, {
    issuer: config.publicUrl,
    tokenTtl: config.tokenTtl,
    sessionTtl: config.sessionTtl,
    relyingParty: { id: config.webauthn.rpId, origins: config.webauthn.origins },
    reauthWindow: config.reauthWindow,
  })
  const lifecycle: Lifecycle = { isDraining: false }
  const headers = securityHeadersFor(config)

  const app = Fastify({
    logger: loggerOptions(config.logLevel),
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
  app.decorate('plinth', {
    config,
    dialect,
    collections,
    records,
    auth,
    lifecycle,
    setupLink: await createSetupLink(dialect.db, config.publicUrl),
  } satisfies Plinth)
  // Hooks that run on every request take a callback: an async hook costs a promise
  // and a microtask per request even when it has nothing to do.
  app.addHook('onRequest', function echoRequestId(request, reply, done) {
    reply.header('x-request-id', request.id)
    done()
  })
  refuseNulCharacters(app)
  // While draining, each answer closes its connection: a keep-alive socket that turns
  // idle after shutdown began would otherwise hold the server open until it times out.
  app.addHook('onSend', function closeWhileDraining(_request, reply, payload, done) {
    if (lifecycle.isDraining) reply.header('connection', 'close')
    done(null, payload)
  })
  const pruner = setInterval(
    () => {
      Promise.all([pruneIdempotencyKeys(dialect.db), auth.lockout.prune()]).catch((error) =>
        app.log.warn({ err: error }, 'pruning idempotency keys failed'),
      )
    },
    60 * 60 * 1000,
  )
  pruner.unref()
  app.addHook('onClose', async function closeDatabase() {
    clearInterval(pruner)
    await dialect.close()
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
  await app.register(security, {
    config,
    headers,
    isAuthCollection: (name) => registry.get(name)?.type === 'auth',
  })
  await app.register(fastifyCookie)
  await app.register(authentication, { tokens: auth.tokens, csrf, apiKeys: auth.apiKeys })
  await app.register(cookieMode, {
    csrf,
    secure: isSecureOrigin(config.publicUrl),
    tokenTtl: config.tokenTtl,
    sessionTtl: config.sessionTtl,
  })
  await app.register(idempotency, { db: dialect.db })
  await app.register(healthRoutes, { dialect, lifecycle })
  await app.register(collectionsRoutes, { collections })
  await app.register(recordsRoutes, { records })
  await app.register(batchRoutes, { records })
  await app.register(authRoutes, { csrf, db: dialect.db, records, ...auth })
  await app.register(openapiRoutes, { collections })
  await app.register(oauth2Routes, { dialect, box, records, signIn: auth.signIn, audit: auth.audit })
  await app.register(impersonationRoutes, { records, ...auth })
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
    mailer: createMailer(config, app.log),
    publicUrl: config.publicUrl,
    appName: config.appName,
  })
  return app
}

/** Browsers keep Secure cookies for https, and for localhost even over http. */
function isSecureOrigin(publicUrl: string): boolean {
  const url = new URL(publicUrl)
  return url.protocol === 'https:' || ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)
}
