import { type Static, Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { CollectionDefinition } from '../../collections/index.js'
import { readPackageFile } from '../../config/index.js'
import type { Dialect } from '../../db/index.js'
import { NotFoundError } from '../../errors/index.js'
import type { Mailer } from '../../mail/index.js'
import type { RecordService } from '../../records/index.js'
import { sendPage } from '../../security/index.js'
import type { AuditLog } from '../audit.js'
import type { Lockout } from '../lockout.js'
import type { SessionStore } from '../sessions.js'
import type { SignIn } from '../sign-in.js'
import { AuthTokenStore } from './auth-tokens.js'
import { LinkFlows } from './link-flows.js'
import { confirmPages } from './links.js'
import { OtpFlow } from './otp-flow.js'
import { Postbox } from './postbox.js'

export interface EmailFlowsRoutesOptions {
  dialect: Dialect
  records: RecordService
  sessions: SessionStore
  lockout: Lockout
  audit: AuditLog
  signIn: SignIn
  mailer: Mailer
  /** {{APP_URL}} and the base of Plinth's own confirm pages. */
  publicUrl: string
  /** {{APP_NAME}}. */
  appName: string
}

const email = Type.String({ minLength: 1, maxLength: 254 })
const token = Type.String({ minLength: 1, maxLength: 200 })
const password = Type.String({ minLength: 1, maxLength: 256 })
const strict = { additionalProperties: false } as const

export const emailBody = Type.Object({ email }, strict)
export const tokenBody = Type.Object({ token }, strict)
export const resetBody = Type.Object({ token, password, passwordConfirm: password }, strict)
export const emailChangeBody = Type.Object({ newEmail: email }, strict)
export const confirmEmailChangeBody = Type.Object({ token, password }, strict)
export const otpBody = Type.Object(
  {
    otpId: Type.String({ minLength: 1, maxLength: 100 }),
    password: Type.String({ minLength: 1, maxLength: 20 }),
  },
  strict,
)

type Params = { Params: { collection: string } }

const asset = (name: string) => readPackageFile(`public/${name}`)
const confirmPage = asset('auth-confirm.html')
const confirmScript = asset('auth-confirm.js')
const confirmStyle = asset('pages.css')

const PRUNE_EVERY_MS = 60 * 60 * 1000

/**
 * Verification, password reset, email change and one-time-code sign-in, with the
 * small pages at `/_/auth/<action>` that the mails link to.
 */
export async function emailFlowsRoutes(
  app: FastifyInstance,
  options: EmailFlowsRoutesOptions,
): Promise<void> {
  const { dialect, records, mailer } = options
  const tokens = new AuthTokenStore(dialect)
  const postbox = new Postbox(mailer, { publicUrl: options.publicUrl, appName: options.appName }, app.log)
  const links = new LinkFlows({ ...options, db: dialect.db, tokens, postbox })
  const otp = new OtpFlow({ ...options, db: dialect.db, tokens, postbox })
  const pruner = setInterval(() => {
    tokens.prune().catch((error) => app.log.warn({ err: error }, 'pruning email tokens failed'))
  }, PRUNE_EVERY_MS)
  pruner.unref()
  app.addHook('onClose', async function closeMail() {
    clearInterval(pruner)
    await postbox.drain()
    await mailer.close()
  })

  function authCollection(name: string): CollectionDefinition {
    const collection = records.collection(name)
    if (collection.type !== 'auth') throw new NotFoundError('auth collection')
    return collection
  }

  app.post<Params & { Body: Static<typeof emailBody> }>(
    '/api/collections/:collection/request-verification',
    { schema: { body: emailBody } },
    async function requestVerification(request, reply) {
      await links.requestVerification(authCollection(request.params.collection), request.body.email)
      return reply.code(204).send()
    },
  )

  app.post<Params & { Body: Static<typeof tokenBody> }>(
    '/api/collections/:collection/confirm-verification',
    { schema: { body: tokenBody } },
    async function confirmVerification(request, reply) {
      await links.confirmVerification(authCollection(request.params.collection), request.body.token)
      return reply.code(204).send()
    },
  )

  app.post<Params & { Body: Static<typeof emailBody> }>(
    '/api/collections/:collection/request-password-reset',
    { schema: { body: emailBody } },
    async function requestPasswordReset(request, reply) {
      await links.requestPasswordReset(authCollection(request.params.collection), request.body.email)
      return reply.code(204).send()
    },
  )

  app.post<Params & { Body: Static<typeof resetBody> }>(
    '/api/collections/:collection/confirm-password-reset',
    { schema: { body: resetBody } },
    async function confirmPasswordReset(request, reply) {
      await links.confirmPasswordReset(authCollection(request.params.collection), request.body, request.ip)
      return reply.code(204).send()
    },
  )

  app.post<Params & { Body: Static<typeof emailChangeBody> }>(
    '/api/collections/:collection/request-email-change',
    { schema: { body: emailChangeBody } },
    async function requestEmailChange(request, reply) {
      const collection = authCollection(request.params.collection)
      await links.requestEmailChange(request.caller, collection, request.body.newEmail)
      return reply.code(204).send()
    },
  )

  app.post<Params & { Body: Static<typeof confirmEmailChangeBody> }>(
    '/api/collections/:collection/confirm-email-change',
    { schema: { body: confirmEmailChangeBody } },
    async function confirmEmailChange(request, reply) {
      await links.confirmEmailChange(authCollection(request.params.collection), request.body, request.ip)
      return reply.code(204).send()
    },
  )

  app.post<Params & { Body: Static<typeof emailBody> }>(
    '/api/collections/:collection/request-otp',
    { schema: { body: emailBody } },
    async function requestOtp(request) {
      return otp.request(authCollection(request.params.collection), request.body.email)
    },
  )

  app.post<Params & { Body: Static<typeof otpBody> }>(
    '/api/collections/:collection/auth-with-otp',
    { schema: { body: otpBody } },
    async function authWithOtp(request) {
      const collection = authCollection(request.params.collection)
      return otp.authenticate(request, collection, request.body.otpId, request.body.password)
    },
  )

  for (const page of Object.values(confirmPages)) {
    app.get(`/_/auth/${page}`, async function confirmForm(_request, reply) {
      return sendPage(reply, confirmPage, 'no-store')
    })
  }
  app.get('/_/auth/confirm.js', async function confirmFormScript(_request, reply) {
    return reply
      .type('text/javascript; charset=utf-8')
      .header('cache-control', 'no-cache')
      .send(confirmScript)
  })
  app.get('/_/auth/confirm.css', async function confirmFormStyle(_request, reply) {
    return reply.type('text/css; charset=utf-8').header('cache-control', 'no-cache').send(confirmStyle)
  })
}
