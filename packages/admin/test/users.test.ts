import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { checkPage, openSection, setUpSuperuser, signIn, until } from './support/admin.js'
import { callApi } from './support/api.js'
import { type Browser, browserSkipReason, launchBrowser } from './support/browser.js'
import { type PlinthServer, startPlinth } from './support/server.js'

const EMAIL = 'people@example.com'
const PASSWORD = 'a long people password'
const MEMBER = 'member@example.com'
const MEMBER_PASSWORD = 'a long member password'

const skip = browserSkipReason()

describe('the admin app, users', () => {
  let server: PlinthServer
  let browser: Browser
  let superuserToken: string
  let memberId: string
  let memberToken: string

  // Skipped with its reason where Chromium is missing (never under CI=true: that fails).
  beforeEach((context) => {
    if (skip) context.skip(skip)
  })

  beforeAll(async () => {
    if (skip) return
    server = await startPlinth()
    superuserToken = await setUpSuperuser(server, EMAIL, PASSWORD)
    // The member signs up and in by script, as an app using the API would.
    await callApi(
      server.url,
      '/api/collections',
      { name: 'members', type: 'auth', createRule: '' },
      superuserToken,
    )
    ;({ id: memberId } = await callApi<{ id: string }>(server.url, '/api/collections/members/records', {
      email: MEMBER,
      password: MEMBER_PASSWORD,
      passwordConfirm: MEMBER_PASSWORD,
    }))
    ;({ token: memberToken } = await callApi<{ token: string }>(
      server.url,
      '/api/collections/members/auth-with-password',
      { identity: MEMBER, password: MEMBER_PASSWORD },
    ))
    browser = await launchBrowser()
    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url })
    await signIn(browser.page, server, EMAIL, PASSWORD)
  }, 120_000)

  afterAll(async () => {
    await browser?.close()
    await server?.stop()
  })

  test('a user is found, verified, and their session ended so that their token is refused', {
    timeout: 120_000,
  }, async () => {
    const { page } = browser
    await openSection(page, 'Users')
    await page
      .getByRole('navigation', { name: 'Auth collections' })
      .getByRole('link', { name: 'members' })
      .click()
    await page.getByRole('searchbox', { name: 'Email or id' }).fill('member@')
    await page.getByRole('combobox', { name: 'Verified' }).selectOption('false')
    await page.getByRole('button', { name: 'Search' }).click()
    const users = page.getByRole('table', { name: 'Users of members' })
    await users.getByRole('link', { name: MEMBER }).waitFor()
    await checkPage(page, 'users')

    await users.getByRole('link', { name: MEMBER }).click()
    await page.getByRole('heading', { level: 1, name: MEMBER }).waitFor()
    await page.getByRole('button', { name: 'Mark as verified' }).click()
    await page.getByRole('button', { name: 'Mark as verified' }).waitFor({ state: 'detached' })
    const member = await callApi<{ verified: boolean }>(
      server.url,
      `/api/collections/members/records/${memberId}`,
      undefined,
      superuserToken,
    )
    expect(member.verified).toBe(true)

    await page.getByRole('button', { name: 'Make an impersonation token' }).click()
    const impersonation = await page.getByRole('textbox', { name: 'Impersonation token' }).inputValue()
    await page.getByRole('button', { name: 'Copy the token' }).click()
    await page.getByRole('status').filter({ hasText: 'Copied.' }).waitFor()
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(impersonation)
    await callApi(server.url, '/api/auth/sessions', undefined, impersonation)

    const rows = page.getByRole('table', { name: 'Open sessions' }).getByRole('row')
    // The member's sign-in and the impersonation: two sessions, under a row of headers.
    await until('two sessions listed', async () => (await rows.count()) === 3)
    await checkPage(page, 'user')

    const { items } = await callApi<{ items: { id: string; current: boolean }[] }>(
      server.url,
      '/api/auth/sessions',
      undefined,
      memberToken,
    )
    const signIn = items.find((s) => s.current)?.id as string
    await page.getByRole('button', { name: `End session ${signIn}` }).click()
    await page.getByRole('button', { name: `End session ${signIn}` }).waitFor({ state: 'detached' })
    // The member's access token stops within a second of the session's end.
    await until('the member token refused', async () => {
      const response = await fetch(`${server.url}/api/auth/sessions`, {
        headers: { authorization: `Bearer ${memberToken}` },
      })
      return response.status === 401
    })

    await page.getByRole('button', { name: 'Send a password-reset mail' }).click()
    await page.getByRole('status').filter({ hasText: 'A password-reset mail is on its way' }).waitFor()

    await openSection(page, 'Audit log')
    await page.getByRole('combobox', { name: 'Event' }).selectOption('impersonation')
    await page.getByRole('textbox', { name: 'Record id' }).fill(memberId)
    await page.getByRole('button', { name: 'Apply' }).click()
    await page
      .getByRole('table', { name: 'Audit log' })
      .getByRole('cell', { name: 'impersonation' })
      .waitFor()
    await checkPage(page, 'audit-log')
  })
})
