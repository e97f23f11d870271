import { readFile } from 'node:fs/promises'
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

const EMAIL = 'schema@example.com'
const PASSWORD = 'a long schema password'

async function heading(page: Page, name: string): Promise<void> {
  await page.getByRole('heading', { level: 1, name, exact: true }).waitFor()
  await settled(page)
}

/** The text of whatever describes a control (its hint and the server's message about it). */
async function description(element: ReturnType<Page['getByRole']>): Promise<string> {
  return element.evaluate((input) =>
    (input.getAttribute('aria-describedby') ?? '')
      .split(' ')
      .map((id) => document.getElementById(id)?.textContent ?? '')
      .join(' '),
  )
}

/** Adds a field at the end of the list and names it; returns its group. */
async function addField(page: Page, name: string, type: string) {
  await page.getByRole('button', { name: 'Add field' }).click()
  const row = page.getByRole('group', { name: /^Field new field/ }).last()
  await row.getByRole('textbox', { name: 'Name' }).fill(name)
  const named = page.getByRole('group', { name: `Field ${name}`, exact: true })
  await named.getByRole('combobox', { name: 'Type' }).selectOption(type)
  return named
}

describe('the admin app, collections', () => {
  let server: PlinthServer | undefined
  let browser: Browser | undefined
  afterAll(async () => {
    await browser?.close()
    await server?.stop()
  })

  test('create collections with a relation, a file and rules, see a refused rule, rename a field', {
    timeout: 120_000,
  }, async (context) => {
    const skip = browserSkipReason()
    if (skip) return context.skip(skip)
    server = await startPlinth()
    browser = await launchBrowser()
    const { page } = browser

    await page.goto(server.setupLink)
    await heading(page, 'Create the first superuser')
    await page.getByRole('textbox', { name: 'Email' }).fill(EMAIL)
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD)
    await page.getByLabel('Repeat the password', { exact: true }).fill(PASSWORD)
    await page.getByRole('button', { name: 'Create superuser' }).click()
    await heading(page, 'Collections')

    // The collection the relation will point at.
    await page.getByRole('link', { name: 'New collection' }).click()
    await heading(page, 'New collection')
    await page.getByRole('textbox', { name: 'Name', exact: true }).fill('authors')
    await addField(page, 'name', 'text')
    await page.getByRole('button', { name: 'Create collection' }).click()
    await heading(page, 'Collection authors')

    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Collections', exact: true })
      .click()
    await heading(page, 'Collections')
    await page.getByRole('link', { name: 'New collection' }).click()
    await heading(page, 'New collection')
    await page.getByRole('textbox', { name: 'Name', exact: true }).fill('posts')
    await addField(page, 'title', 'text')
    const author = await addField(page, 'author', 'relation')
    await author.getByRole('combobox', { name: 'Target collection' }).selectOption('authors')
    await author.getByRole('combobox', { name: 'When the target is deleted' }).selectOption('cascade')
    const cover = await addField(page, 'cover', 'file')
    await cover.getByRole('textbox', { name: 'Media types' }).fill('image/png, image/jpeg')
    await cover.getByRole('textbox', { name: 'Thumbnail sizes' }).fill('100x100')
    await cover.getByRole('checkbox', { name: 'Protected' }).check()

    // The list rule, written with the completion: a relation path chosen with the keyboard.
    const listRule = page.getByRole('group', { name: 'List rule' })
    await listRule.getByRole('checkbox', { name: 'Locked: superusers only' }).uncheck()
    const listInput = page.getByRole('textbox', { name: 'List rule' })
    expect(await description(listInput)).toContain('Empty: everyone lists records, guests included.')
    await listInput.pressSequentially('auth')
    await page.getByRole('option', { name: 'author.', exact: true }).waitFor()
    await listInput.press('ArrowDown')
    await listInput.press('Enter')
    await page.getByRole('option', { name: 'author.id' }).waitFor()
    await listInput.pressSequentially('na')
    await listInput.press('Tab')
    await listInput.pressSequentially(' != ""')
    expect(await listInput.inputValue()).toBe('author.name != ""')

    // A view rule the server refuses: its message shows beside that rule.
    await page
      .getByRole('group', { name: 'View rule' })
      .getByRole('checkbox', { name: 'Locked: superusers only' })
      .uncheck()
    const viewInput = page.getByRole('textbox', { name: 'View rule' })
    await viewInput.fill('nope = 1')
    await page.getByRole('button', { name: 'Create collection' }).click()
    await page.getByRole('alert').waitFor()
    expect(await viewInput.getAttribute('aria-invalid')).toBe('true')
    expect(await description(viewInput)).toMatch(/View rule: \S+.*nope/)
    await page.keyboard.press('Escape')
    await expect(accessibilityViolations(page)).resolves.toEqual([])
    await screenshot(page, 'collection-editor-rule-refused')

    await viewInput.fill('@request.auth.id != ""')
    await page.getByRole('button', { name: 'Create collection' }).click()
    await heading(page, 'Collection posts')
    await expect(accessibilityViolations(page)).resolves.toEqual([])
    await screenshot(page, 'collection-editor')

    // A rename keeps the field's id, so the server renames the column rather than replacing it.
    await page
      .getByRole('group', { name: 'Field title', exact: true })
      .getByRole('textbox', { name: 'Name' })
      .fill('headline')
    // The dry run shows the migration the change would run, and changes nothing yet.
    await page.getByRole('button', { name: 'Check and preview' }).click()
    const preview = page.getByRole('region', { name: 'Migration preview' })
    await preview.getByText('Change posts').waitFor()
    await expect(preview.textContent()).resolves.toMatch(/title.*headline/)
    await expect(accessibilityViolations(page)).resolves.toEqual([])
    await screenshot(page, 'collection-editor-preview')
    await page.getByRole('button', { name: 'Save changes' }).click()
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor()

    // The editor in the dark theme, at a tablet's width.
    await page.getByRole('button', { name: 'Dark theme' }).click()
    await page.setViewportSize({ width: 768, height: 1024 })
    await expect(accessibilityViolations(page)).resolves.toEqual([])
    await screenshot(page, 'collection-editor-dark-tablet')
    await page.getByRole('button', { name: 'Dark theme' }).click()
    await page.setViewportSize({ width: 1280, height: 800 })
    await page.getByRole('group', { name: 'Field headline', exact: true }).waitFor()

    // A field added and saved gets its id from the answer, so renaming it next is a rename too.
    await addField(page, 'summary', 'text')
    await page.getByRole('button', { name: 'Save changes' }).click()
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor()
    await page
      .getByRole('group', { name: 'Field summary', exact: true })
      .getByRole('textbox', { name: 'Name' })
      .fill('abstract')
    await page.getByRole('button', { name: 'Check and preview' }).click()
    await expect(preview.textContent()).resolves.toMatch(/summary → abstract \(renamed\)/)
    await page.getByRole('button', { name: 'Save changes' }).click()
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor()

    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Collections', exact: true })
      .click()
    await heading(page, 'Collections')
    const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: 'posts', exact: true }) })
    await expect(row.getByRole('cell').allTextContents()).resolves.toContain('author.name != ""')
    await expect(accessibilityViolations(page)).resolves.toEqual([])
    await screenshot(page, 'collections-list')

    // Export, then import the file with one collection more: previewed first, then applied.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export schema' }).click(),
    ])
    expect(download.suggestedFilename()).toBe('plinth-collections.json')
    const exported = JSON.parse(await readFile((await download.path())!, 'utf8')) as {
      collections: unknown[]
    }
    expect(exported.collections.map((c) => (c as { name: string }).name)).toContain('posts')
    exported.collections.push({ name: 'tags', type: 'base', fields: [{ name: 'label', type: 'text' }] })
    await page.getByLabel('Schema file (JSON)').setInputFiles({
      name: 'schema.json',
      mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify(exported)),
    })
    const plan = page.getByRole('region', { name: 'What the import would do' })
    await plan.getByText('Create tags').waitFor()
    await expect(accessibilityViolations(page)).resolves.toEqual([])
    await screenshot(page, 'collections-import-preview')
    await page.getByRole('button', { name: 'Apply the import' }).click()
    await page.getByRole('status').filter({ hasText: 'Imported' }).waitFor()
    await page.getByRole('link', { name: 'tags', exact: true }).first().waitFor()

    const answer = await page.evaluate(async () => (await fetch('/api/collections/posts')).json())
    const fields = (answer as { fields: { name: string; type: string; [key: string]: unknown }[] }).fields
    expect(fields.find((field) => field.name === 'headline')).toMatchObject({ type: 'text' })
    expect(fields.find((field) => field.name === 'author')).toMatchObject({
      collection: 'authors',
      onDelete: 'cascade',
    })
    expect(fields.find((field) => field.name === 'cover')).toMatchObject({
      type: 'file',
      mimeTypes: ['image/png', 'image/jpeg'],
      thumbs: ['100x100'],
      protected: true,
    })
  })
})
