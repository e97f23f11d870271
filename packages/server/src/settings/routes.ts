import { type Static, Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { composeMail, SUPERUSERS } from '../auth/index.js'
import { type CollectionRegistry, mailKinds } from '../collections/index.js'
import { effectiveSettings, type PlinthConfig } from '../config/index.js'
import { PlinthError, ValidationError } from '../errors/index.js'
import { requireSuperuser } from '../identity/index.js'
import { createMailer, type MailLog, type MailMessage } from '../mail/index.js'

const strict = { additionalProperties: false } as const
const noQuery = Type.Object({}, strict)
const testEmailBody = Type.Object(
  {
    // One address: no spaces, commas or angle brackets that would make it a list or a header.
    email: Type.String({ minLength: 3, maxLength: 254, pattern: '^[^\\s@<>,;"]+@[^\\s@<>,;"]+$' }),
    template: Type.Optional(Type.Union(mailKinds.map((kind) => Type.Literal(kind)))),
    collection: Type.Optional(
      Type.String({ minLength: 1, maxLength: 63, pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }),
    ),
  },
  strict,
)

/** What a template's placeholders hold in a test: plainly not a working link or code. */
const SAMPLE = {
  LINK: 'https://example.com/this-is-a-test-link',
  TOKEN: 'this-is-a-test-token',
  CODE: '000000',
}

/**
 * `GET /api/settings`: the effective configuration, secrets shown only as set or not (it comes
 * from the environment and changes only with a restart), and `POST /api/settings/test/email`,
 * which sends a mail through the configured mail server at once and says whether it took it.
 * Superusers only.
 *
 * @example
 * await app.register(settingsRoutes, { config, registry, log })
 */
export async function settingsRoutes(
  app: FastifyInstance,
  options: { config: PlinthConfig; registry: CollectionRegistry; log: MailLog },
): Promise<void> {
  const { config, registry, log } = options
  // Before validation, so that only a superuser learns which inputs are valid.
  app.addHook('preValidation', async function onlySuperusers(request) {
    requireSuperuser(request.caller, 'read the settings')
  })

  app.get('/api/settings', { schema: { querystring: noQuery } }, async function viewSettings() {
    return effectiveSettings(config)
  })

  app.post<{ Body: Static<typeof testEmailBody> }>(
    '/api/settings/test/email',
    { schema: { body: testEmailBody, querystring: noQuery } },
    async function sendTestEmail(request, reply) {
      const { email, template, collection = SUPERUSERS } = request.body
      // Not the queue the flows use: the answer must say whether the mail server took the mail.
      const message = testMessage(email, template, collection)
      const transport = createMailer(config, log)
      try {
        await transport.send(message)
      } catch (error) {
        throw new PlinthError(
          502,
          'mail_failed',
          `The mail server did not take the mail: ${(error as Error).message}`,
        )
      } finally {
        await transport.close()
      }
      return reply.code(204).send()
    },
  )

  function testMessage(
    to: string,
    template: Static<typeof testEmailBody>['template'],
    collection: string,
  ): MailMessage {
    const settings = { appName: config.appName, publicUrl: config.publicUrl }
    if (!template)
      return {
        to,
        subject: `Test mail from ${config.appName}`,
        text: `This is a test mail from ${config.appName} (${config.publicUrl}), sent from its settings. If it reached you, its mail works.\n`,
      }
    const definition = registry.get(collection)
    if (definition?.type !== 'auth')
      throw new ValidationError({
        collection: {
          code: 'unknown_collection',
          message: 'must name an auth collection, whose templates are used',
        },
      })
    return composeMail(settings, definition, template, to, SAMPLE)
  }
}
