import { afterAll, describe, test } from 'vitest'
import { setUpSuperuser, signIn } from './support/admin.js'
import { callApi } from './support/api.js'
import { type Browser, browserSkipReason, launchBrowser } from './support/browser.js'
import { type PlinthServer, startPlinth } from './support/server.js'

const EMAIL = 'live@example.com'
const PASSWORD = 'a long live password'
/** The shortest access token the server allows, so the stream's end comes within the test. */
const TOKEN_TTL_SECONDS = 30

describe('the admin app, live records', () => {
  let server: PlinthServer | undefined
  let browser: Browser | undefined
  afterAll(async () => {
    await browser?.close()
    await server?.stop()
  })

  test('changes keep arriving after the access token behind the stream has expired', {
    timeout: 180_000,
  }, async (context) => {
    const skip = browserSkipReason()
    if (skip) return context.skip(skip)
    server = await startPlinth({ PLINTH_TOKEN_TTL: String(TOKEN_TTL_SECONDS) })
    const token = await setUpSuperuser(server, EMAIL, PASSWORD)
    await callApi(
      server.url,
      '/api/collections',
      { name: 'notes', type: 'base', fields: [{ name: 'text', type: 'text' }], listRule: '' },
      token,
    )
    browser = await launchBrowser()
    const { page } = browser
    await signIn(page, server, EMAIL, PASSWORD)
    await page.goto(`${server.url}/_/collections/notes/records`)
    await page.getByRole('heading', { level: 1, name: 'Records of notes' }).waitFor()
    const grid = page.getByRole('grid', { name: 'Records of notes' })
    const signedInAt = Date.now()

    await callApi(server.url, '/api/collections/notes/records', { text: 'before the expiry' }, token)
    await grid.getByRole('gridcell', { name: 'before the expiry' }).waitFor()

    // The server ends the stream when the browser's access token expires; nothing else in
    // the page makes a request meanwhile, so only the stream's own recovery can bring it back.
    await page.waitForTimeout(Math.max(0, signedInAt + (TOKEN_TTL_SECONDS + 3) * 1000 - Date.now()))
    // The script signs in again too: its first token has expired as well.
    const { token: laterToken } = await callApi<{ token: string }>(
      server.url,
      '/api/collections/_superusers/auth-with-password',
      { identity: EMAIL, password: PASSWORD },
    )
    await callApi(server.url, '/api/collections/notes/records', { text: 'after the expiry' }, laterToken)
    await grid.getByRole('gridcell', { name: 'after the expiry' }).waitFor({ timeout: 30_000 })
  })
})
