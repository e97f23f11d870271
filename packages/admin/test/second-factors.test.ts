import type { CDPSession, Page } from 'playwright-core'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { checkPage, openSection, setUpSuperuser, signIn, until } from './support/admin.js'
import { totpCode } from './support/api.js'
import { type Browser, browserSkipReason, launchBrowser, settled } from './support/browser.js'
import { type PlinthServer, startPlinth } from './support/server.js'

const EMAIL = 'factors@example.com'
const PASSWORD = 'a long factors password'

const skip = browserSkipReason()

async function signOut(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Sign out' }).click()
  await page.getByRole('heading', { level: 1, name: 'Sign in to Plinth' }).waitFor()
}

/** Waits until the Second factor section says this of the authenticator app and of passkeys. */
async function untilStatus(page: Page, totp: string, passkeys: string): Promise<void> {
  const facts = page.getByRole('region', { name: 'Second factor' }).getByRole('definition')
  await until(`second factor status "${totp}", ${passkeys} passkeys`, async () => {
    const [shown, count] = await facts.allTextContents()
    return shown === totp && count === passkeys
  })
}

describe('the admin app, second factors in Settings', () => {
  let server: PlinthServer
  let browser: Browser
  /** The app as the browser reaches it: passkeys need a host name, browsers refuse an IP address as RP ID. */
  let app: PlinthServer

  // Skipped with its reason where Chromium is missing (never under CI=true: that fails).
  beforeEach((context) => {
    if (skip) context.skip(skip)
  })

  beforeAll(async () => {
    if (skip) return
    server = await startPlinth((port) => ({ PLINTH_PUBLIC_URL: `http://localhost:${port}` }))
    app = { ...server, url: server.url.replace('127.0.0.1', 'localhost') }
    await setUpSuperuser(server, EMAIL, PASSWORD)
    browser = await launchBrowser()
    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: app.url })
  }, 120_000)

  afterAll(async () => {
    await browser?.close()
    await server?.stop()
  })

  test('the authenticator app is turned on with its secret, its recovery codes shown once, and sign-in asks for a code', {
    timeout: 180_000,
  }, async () => {
    const { page } = browser
    await browser.context.clearCookies()
    await signIn(page, app, EMAIL, PASSWORD)
    await openSection(page, 'Settings')
    await page.getByRole('button', { name: 'Turn on the authenticator app' }).click()

    const secret = await page.getByRole('textbox', { name: 'Secret' }).inputValue()
    expect(secret).toMatch(/^[A-Z2-7]{16,}$/)
    const otpauth = new URL(await page.getByRole('textbox', { name: 'otpauth URL' }).inputValue())
    expect(otpauth.protocol).toBe('otpauth:')
    expect(otpauth.searchParams.get('secret')).toBe(secret)
    await page.getByRole('img', { name: 'QR code for the authenticator app' }).waitFor()
    await page.getByRole('button', { name: 'Copy the secret' }).click()
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret)
    await checkPage(page, 'settings-totp-setup')

    const confirm = page.getByRole('form', { name: 'Confirm the authenticator app' })
    await confirm.getByRole('textbox', { name: 'Six-digit code' }).fill(wrongCode(secret))
    await confirm.getByRole('button', { name: 'Turn on' }).click()
    expect(await confirm.getByRole('alert').textContent()).toContain('The second factor is wrong.')
    await untilStatus(page, 'off', '0')

    await confirm.getByRole('textbox', { name: 'Six-digit code' }).fill(totpCode(secret))
    await confirm.getByRole('button', { name: 'Turn on' }).click()
    const list = page.getByRole('list', { name: 'Recovery codes' })
    await list.waitFor()
    const recoveryCodes = await list.getByRole('listitem').allTextContents()
    expect(recoveryCodes).toHaveLength(10)
    expect(new Set(recoveryCodes).size).toBe(10)
    await page.getByRole('button', { name: 'Copy the recovery codes' }).click()
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(recoveryCodes.join('\n'))
    await checkPage(page, 'settings-recovery-codes')
    await page.getByRole('button', { name: 'Done' }).click()
    await list.waitFor({ state: 'detached' })
    await untilStatus(page, 'on, 10 recovery codes left', '0')

    await signOut(page)
    await page.getByRole('textbox', { name: 'Email' }).fill(EMAIL)
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD)
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    const step = page.getByRole('form', { name: 'Second factor' })
    // The code that confirmed the app is spent; the server takes the next step's code as well.
    await step.getByRole('textbox', { name: 'Six-digit code' }).fill(totpCode(secret, Date.now() + 30_000))
    await step.getByRole('button', { name: 'Continue' }).click()
    await page.getByRole('heading', { level: 1, name: 'Collections', exact: true }).waitFor()

    await openSection(page, 'Settings')
    await settled(page)
    const renew = page.getByRole('form', { name: 'New recovery codes' })
    await renew
      .getByRole('textbox', { name: 'Code from the app, or a recovery code' })
      .fill(recoveryCodes[0]!)
    await renew.getByRole('button', { name: 'New recovery codes' }).click()
    await list.waitFor()
    const fresh = await list.getByRole('listitem').allTextContents()
    expect(fresh).toHaveLength(10)
    expect(fresh.filter((code) => recoveryCodes.includes(code))).toEqual([])
    await page.getByRole('button', { name: 'Done' }).click()

    const turnOff = page.getByRole('form', { name: 'Turn off the authenticator app' })
    await turnOff
      .getByRole('textbox', { name: 'Code from the app, or a recovery code' })
      .fill(recoveryCodes[1]!)
    await turnOff.getByRole('button', { name: 'Turn off' }).click()
    expect(await turnOff.getByRole('alert').textContent()).toContain('The second factor is wrong.')
    await turnOff.getByRole('textbox', { name: 'Code from the app, or a recovery code' }).fill(fresh[0]!)
    await turnOff.getByRole('button', { name: 'Turn off' }).click()
    await page.getByRole('button', { name: 'Turn on the authenticator app' }).waitFor()
    await untilStatus(page, 'off', '0')
  })

  test('a passkey is added in Settings, signs in alone, and no longer does once removed', {
    timeout: 180_000,
  }, async () => {
    const { page } = browser
    const cdp: CDPSession = await page.context().newCDPSession(page)
    await cdp.send('WebAuthn.enable')
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
      },
    })
    await browser.context.clearCookies()
    await signIn(page, app, EMAIL, PASSWORD)
    await openSection(page, 'Settings')
    await settled(page)

    const add = page.getByRole('form', { name: 'Add a passkey' })
    await add.getByRole('textbox', { name: 'Passkey name' }).fill('Test laptop')
    await add.getByRole('button', { name: 'Add a passkey' }).click()
    const table = page.getByRole('table', { name: 'Passkeys' })
    await table.getByRole('cell', { name: 'Test laptop', exact: true }).waitFor()
    // The form says so once the refreshed list is in, which may be drawn a moment before.
    await add
      .getByRole('status')
      .filter({ hasText: /^Added the passkey Test laptop\.$/ })
      .waitFor()
    expect((await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials).toHaveLength(1)
    await untilStatus(page, 'off', '1')
    await checkPage(page, 'settings-passkey')

    await signOut(page)
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click()
    await page.getByRole('heading', { level: 1, name: 'Collections', exact: true }).waitFor()
    expect(await page.getByRole('banner').textContent()).toContain(EMAIL)

    await openSection(page, 'Settings')
    page.once('dialog', (dialog) => void dialog.accept())
    await table.getByRole('button', { name: 'Remove Test laptop' }).click()
    await page.getByText('No passkeys registered.').waitFor()
    await untilStatus(page, 'off', '0')

    // The browser still holds the credential, but the server no longer knows it.
    await signOut(page)
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click()
    expect(await page.getByRole('alert').textContent()).toContain('The passkey could not be verified.')
  })
})

/** A six-digit code that is not the app's now, nor one step either side. */
function wrongCode(secret: string): string {
  const near = [-30_000, 0, 30_000].map((offset) => totpCode(secret, Date.now() + offset))
  for (let n = 0; ; n++) {
    const code = String(n).padStart(6, '0')
    if (!near.includes(code)) return code
  }
}
