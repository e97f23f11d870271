import { afterAll, describe, expect, test } from 'vitest'
import { callApi, totpCode } from './support/api.js'
import {
  accessibilityViolations,
  type Browser,
  browserSkipReason,
  launchBrowser,
  screenshot,
  settled,
} from './support/browser.js'
import { type PlinthServer, startPlinth } from './support/server.js'

const EMAIL = 'guarded@example.com'
const PASSWORD = 'a long guarded password'

describe('the admin app, sign-in with a second factor', () => {
  let server: PlinthServer | undefined
  let browser: Browser | undefined
  afterAll(async () => {
    await browser?.close()
    await server?.stop()
  })

  test('a superuser with TOTP on is asked for a code, and gets in with a recovery code', {
    timeout: 240_000,
  }, async (context) => {
    const skip = browserSkipReason()
    if (skip) return context.skip(skip)
    server = await startPlinth()
    // Set up by script, as the app would: the first superuser, then TOTP on their account.
    const token = new URL(server.setupLink).hash.replace('#token=', '')
    const setup = await callApi<{ token: string }>(server.url, '/api/setup', {
      token,
      email: EMAIL,
      password: PASSWORD,
      passwordConfirm: PASSWORD,
    })
    const mfa = '/api/collections/_superusers/mfa'
    const { secret } = await callApi<{ secret: string }>(server.url, `${mfa}/totp/setup`, {}, setup.token)
    const { recoveryCodes } = await callApi<{ recoveryCodes: string[] }>(
      server.url,
      `${mfa}/totp/confirm`,
      { code: totpCode(secret) },
      setup.token,
    )

    browser = await launchBrowser()
    const { page } = browser
    await page.goto(`${server.url}/_/`)
    await page.getByRole('heading', { level: 1, name: 'Sign in to Plinth' }).waitFor()
    await page.getByRole('textbox', { name: 'Email' }).fill(EMAIL)
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD)
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()

    const step = page.getByRole('form', { name: 'Second factor' })
    await step.getByRole('textbox', { name: 'Six-digit code' }).fill('000000')
    await step.getByRole('button', { name: 'Continue' }).click()
    expect(await step.getByRole('alert').textContent()).not.toBe('')
    expect(await accessibilityViolations(page)).toEqual([])
    await screenshot(page, 'sign-in-second-factor')

    await step.getByRole('button', { name: 'Use a recovery code instead' }).click()
    await step.getByRole('textbox', { name: 'Recovery code' }).fill(recoveryCodes[0]!)
    await step.getByRole('button', { name: 'Continue' }).click()
    await page.getByRole('heading', { level: 1, name: 'Collections', exact: true }).waitFor()
    await settled(page)
    expect(await page.getByRole('banner').textContent()).toContain(EMAIL)
  })
})
