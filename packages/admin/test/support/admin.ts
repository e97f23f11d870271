import type { Page } from 'playwright-core'
import { afterAll, beforeAll, beforeEach, expect } from 'vitest'
import { callApi } from './api.js'
import {
  accessibilityViolations,
  type Browser,
  browserSkipReason,
  launchBrowser,
  screenshot,
  settled,
} from './browser.js'
import { type PlinthServer, startPlinth } from './server.js'

/** Makes the first superuser through the setup link's token, by script; answers their token. */
export async function setUpSuperuser(server: PlinthServer, email: string, password: string): Promise<string> {
  const token = new URL(server.setupLink).hash.replace('#token=', '')
  const setup = await callApi<{ token: string }>(server.url, '/api/setup', {
    token,
    email,
    password,
    passwordConfirm: password,
  })
  return setup.token
}

/** Signs in on the app's sign-in page and waits for the first page of the shell. */
export async function signIn(
  page: Page,
  server: PlinthServer,
  email: string,
  password: string,
): Promise<void> {
  await page.goto(`${server.url}/_/`)
  await page.getByRole('textbox', { name: 'Email' }).fill(email)
  await page.getByLabel('Password', { exact: true }).fill(password)
  await page.getByRole('button', { name: 'Sign in', exact: true }).click()
  await page.getByRole('heading', { level: 1, name: 'Collections', exact: true }).waitFor()
}

/** Opens a page of the app from the main navigation. */
export async function openSection(page: Page, name: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true }).click()
}

/** Once the page has settled: no serious accessibility violation, and a screenshot of it. */
export async function checkPage(page: Page, name: string): Promise<void> {
  await settled(page)
  expect(await accessibilityViolations(page)).toEqual([])
  await screenshot(page, name)
}

/** Polls until `check` holds, for what happens in the background (a delivery, a job). */
export async function until(
  what: string,
  check: () => Promise<boolean> | boolean,
  ms = 20_000,
): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`no ${what} within ${ms} ms`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

export interface SignedInAdmin {
  server: PlinthServer
  browser: Browser
  /** The first superuser's bearer token, for preparing and checking by API as a script would. */
  token: string
}

/**
 * The set-up most browser tests share, for the describe block it is called in: a server with
 * its first superuser made by script, what `prepare` adds through the API, and a browser
 * signed in as that superuser. Every test of the block is skipped with its reason where
 * Chromium is missing (never under CI=true: that fails).
 */
export function useSignedInAdmin(options: {
  email: string
  password: string
  /** The server's settings, or a function that finds them (free ports, a receiver's address). */
  settings?: Record<string, string> | (() => Promise<Record<string, string>>)
  prepare?: (server: PlinthServer, token: string) => Promise<void>
}): SignedInAdmin {
  const skip = browserSkipReason()
  const admin = {} as SignedInAdmin
  beforeEach((context) => {
    if (skip) context.skip(skip)
  })
  beforeAll(async () => {
    if (skip) return
    const { settings = {} } = options
    admin.server = await startPlinth(typeof settings === 'function' ? await settings() : settings)
    admin.token = await setUpSuperuser(admin.server, options.email, options.password)
    await options.prepare?.(admin.server, admin.token)
    admin.browser = await launchBrowser()
    await signIn(admin.browser.page, admin.server, options.email, options.password)
  }, 120_000)
  afterAll(async () => {
    await admin.browser?.close()
    await admin.server?.stop()
  })
  return admin
}
