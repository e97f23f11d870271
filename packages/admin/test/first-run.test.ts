import type { Page } from 'playwright-core'
import { afterAll, describe, expect, test } from 'vitest'
import {
  accessibilityViolations,
  type Browser,
  browserSkipReason,
  launchBrowser,
  screenshot,
  settled,
} from './support/browser.js'
import { type PlinthServer, startPlinth } from './support/server.js'

const EMAIL = 'first@example.com'
const PASSWORD = 'a long first password'

/** The pages of the shell: the name of the link to each, and the heading it opens. */
const pages = [
  { link: 'Collections', heading: 'Collections' },
  { link: '_superusers', heading: 'Records of _superusers' },
  { link: 'Users', heading: 'Users' },
  { link: 'API keys', heading: 'API keys' },
  { link: 'Webhooks', heading: 'Webhooks' },
  { link: 'Jobs', heading: 'Jobs' },
  { link: 'Logs', heading: 'Request logs' },
  { link: 'Metrics', heading: 'Metrics' },
  { link: 'Audit log', heading: 'Audit log' },
  { link: 'Backups', heading: 'Backups' },
  { link: 'Settings', heading: 'Settings' },
]

async function expectAccessible(page: Page, where: string): Promise<void> {
  expect(await accessibilityViolations(page), where).toEqual([])
}

async function heading(page: Page, name: string): Promise<void> {
  await page.getByRole('heading', { level: 1, name, exact: true }).waitFor()
  await settled(page)
}

/** What the field's description says (where the app puts the server's message about it). */
async function descriptionOf(page: Page, label: string): Promise<string> {
  return page.getByLabel(label, { exact: true }).evaluate((input) =>
    (input.getAttribute('aria-describedby') ?? '')
      .split(' ')
      .map((id) => document.getElementById(id)?.textContent ?? '')
      .join(' '),
  )
}

describe('the admin app, first run', () => {
  let server: PlinthServer | undefined
  let browser: Browser | undefined
  afterAll(async () => {
    await browser?.close()
    await server?.stop()
  })

  test('setup link → first superuser → every page → sign out → sign in again', {
    timeout: 120_000,
  }, async (context) => {
    const skip = browserSkipReason()
    if (skip) return context.skip(skip)
    server = await startPlinth()
    browser = await launchBrowser()
    const { page } = browser

    await page.goto(server.setupLink)
    await heading(page, 'Create the first superuser')
    await expectAccessible(page, 'setup')
    await screenshot(page, 'setup')

    // The server's own words about a field show next to that field.
    await page.getByRole('textbox', { name: 'Email' }).fill(EMAIL)
    await page.getByLabel('Password', { exact: true }).fill('short')
    await page.getByLabel('Repeat the password', { exact: true }).fill('short')
    await page.getByRole('button', { name: 'Create superuser' }).click()
    await page.getByRole('alert').waitFor()
    expect(await page.getByLabel('Password', { exact: true }).getAttribute('aria-invalid')).toBe('true')
    expect(await descriptionOf(page, 'Password')).toMatch(/Password: \S+/)
    await expectAccessible(page, 'setup with errors')

    await page.getByLabel('Password', { exact: true }).fill(PASSWORD)
    await page.getByLabel('Repeat the password', { exact: true }).fill(PASSWORD)
    await page.getByRole('button', { name: 'Create superuser' }).click()
    await heading(page, 'Collections')
    expect(new URL(page.url()).pathname).toBe('/_/collections')

    // Cookie mode: the tokens are HttpOnly cookies, never in the page's storage.
    const storage = await page.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }))
    expect(storage).not.toMatch(/eyJ/)
    expect(await page.evaluate(() => document.cookie)).not.toContain('plinth_token')

    const nav = page.getByRole('navigation', { name: 'Main' })
    for (const { link, heading: name } of pages) {
      await nav.getByRole('link', { name: link, exact: true }).click()
      await heading(page, name)
      await expectAccessible(page, name)
      await screenshot(page, name.toLowerCase().replaceAll(' ', '-'))
    }

    await page.getByRole('button', { name: 'Dark theme' }).click()
    expect(await page.getByRole('button', { name: 'Dark theme' }).getAttribute('aria-pressed')).toBe('true')
    await expectAccessible(page, 'settings, dark')
    await screenshot(page, 'settings-dark')

    await page.setViewportSize({ width: 768, height: 1024 })
    await nav.getByRole('link', { name: 'Collections', exact: true }).click()
    await heading(page, 'Collections')
    await expectAccessible(page, 'collections at tablet width')
    await screenshot(page, 'collections-tablet')
    await page.setViewportSize({ width: 1280, height: 800 })

    // A reload keeps the session, and the theme chosen.
    await page.reload()
    await heading(page, 'Collections')
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark')

    await page.getByRole('button', { name: 'Sign out' }).click()
    await heading(page, 'Sign in to Plinth')
    await expectAccessible(page, 'sign-in')
    await screenshot(page, 'sign-in')
    await page.goto(`${server.url}/_/collections`)
    await heading(page, 'Sign in to Plinth')

    await page.getByRole('textbox', { name: 'Email' }).fill(EMAIL)
    await page.getByLabel('Password', { exact: true }).fill('not the password')
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    expect(await page.getByRole('alert').textContent()).toContain('The identity or the password is wrong.')

    await page.getByLabel('Password', { exact: true }).fill(PASSWORD)
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    // Back where the sign-in was asked for.
    await heading(page, 'Collections')
    expect(await page.getByRole('banner').textContent()).toContain(EMAIL)
  })
})
