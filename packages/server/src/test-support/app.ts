import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import { upsertSuperuser } from '../auth/index.js'
import { loadConfig, type PlinthConfig } from '../config/index.js'
import { createApp } from '../http/index.js'
import type { TestDialect } from './databases.js'
import { openTestDatabase } from './dialect-fixture.js'

export const SUPERUSER_EMAIL = 'root@example.com'
export const SUPERUSER_PASSWORD = 'correct horse battery staple'

export interface TestApp {
  app: FastifyInstance
  config: PlinthConfig
  /** Bearer token of a superuser created for the test. */
  token: string
  /** inject() with the superuser's token unless `auth: null` (anonymous) or another token is given. */
  request(options: InjectOptions & { auth?: string | null }): Promise<LightMyRequestResponse>
  close(): Promise<void>
}

/**
 * A whole Plinth on a fresh database of the given dialect, with one superuser
 * signed in. Everything is removed on close.
 */
export async function createTestApp(
  kind: TestDialect,
  overrides: Partial<Omit<PlinthConfig, 'files'>> & { files?: Partial<PlinthConfig['files']> } = {},
): Promise<TestApp> {
  const { files, ...configOverrides } = overrides
  const database = await openTestDatabase(kind, { migrated: true })
  // The app opens its own connection; this one only made the empty schema.
  await database.dialect.close()
  // Tests send many requests quickly from one address; the ones about limits turn them on.
  const config = loadConfig(
    { PLINTH_RATE_LIMITS: 'off' },
    {
      dataDir: database.dataDir,
      databaseUrl: database.databaseUrl,
      logLevel: (process.env.PLINTH_TEST_LOG_LEVEL as PlinthConfig['logLevel'] | undefined) ?? 'silent',
      sqliteSync: 'normal',
      secret: 'test-secret-test-secret-test-secret-0123',
      ...configOverrides,
    },
  )
  // Files stay in the test's own data folder unless the test says otherwise.
  if (files) config.files = { ...config.files, ...files }
  const app = await createApp(config)
  await upsertSuperuser(app.plinth.records, SUPERUSER_EMAIL, SUPERUSER_PASSWORD)
  return signedInTestApp(app, config, async () => {
    await app.close()
    const { close } = database
    await close().catch(() => {})
  })
}

/** A running app as a TestApp: signed in as the test superuser, which must exist. */
export async function signedInTestApp(
  app: FastifyInstance,
  config: PlinthConfig,
  close: () => Promise<void>,
): Promise<TestApp> {
  const signIn = await app.inject({
    method: 'POST',
    url: '/api/collections/_superusers/auth-with-password',
    payload: { identity: SUPERUSER_EMAIL, password: SUPERUSER_PASSWORD },
  })
  if (signIn.statusCode !== 200) throw new Error(`superuser sign-in failed: ${signIn.body}`)
  const token = signIn.json().token as string
  return {
    app,
    config,
    token,
    request({ auth, headers, ...options }) {
      const bearer = auth === undefined ? token : auth
      return app.inject({
        ...options,
        headers: { ...(bearer ? { authorization: `Bearer ${bearer}` } : {}), ...headers },
      })
    },
    close,
  }
}
