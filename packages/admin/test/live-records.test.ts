import { describe, test } from 'vitest'
import { useSignedInAdmin } from './support/admin.js'
import { callApi } from './support/api.js'

const EMAIL = 'live@example.com'
const PASSWORD = 'a long live password'
/** The shortest access token the server allows, so the stream's end comes within the test. */
const TOKEN_TTL_SECONDS = 30

describe('the admin app, live records', () => {
  const admin = useSignedInAdmin({
    email: EMAIL,
    password: PASSWORD,
    settings: { PLINTH_TOKEN_TTL: String(TOKEN_TTL_SECONDS) },
    prepare: async (server, token) => {
      await callApi(
        server.url,
        '/api/collections',
        { name: 'notes', type: 'base', fields: [{ name: 'text', type: 'text' }], listRule: '' },
        token,
      )
    },
  })

  test('changes keep arriving after the access token behind the stream has expired', {
    timeout: 180_000,
  }, async () => {
    // The browser signed in before the test began: its token expires no later than the wait below.
    const signedInAt = Date.now()
    const { server, browser } = admin
    // Tokens live 30 s here, so the script signs in afresh for each write.
    const scriptToken = async () =>
      (
        await callApi<{ token: string }>(server.url, '/api/collections/_superusers/auth-with-password', {
          identity: EMAIL,
          password: PASSWORD,
        })
      ).token
    const { page } = browser
    await page.goto(`${server.url}/_/collections/notes/records`)
    await page.getByRole('heading', { level: 1, name: 'Records of notes' }).waitFor()
    const grid = page.getByRole('grid', { name: 'Records of notes' })

    await callApi(
      server.url,
      '/api/collections/notes/records',
      { text: 'before the expiry' },
      await scriptToken(),
    )
    await grid.getByRole('gridcell', { name: 'before the expiry' }).waitFor()

    // The server ends the stream when the browser's access token expires; nothing else in
    // the page makes a request meanwhile, so only the stream's own recovery can bring it back.
    await page.waitForTimeout(Math.max(0, signedInAt + (TOKEN_TTL_SECONDS + 3) * 1000 - Date.now()))
    await callApi(
      server.url,
      '/api/collections/notes/records',
      { text: 'after the expiry' },
      await scriptToken(),
    )
    await grid.getByRole('gridcell', { name: 'after the expiry' }).waitFor({ timeout: 30_000 })
  })
})
