import { readFileSync } from 'node:fs'
import { afterAll, describe, expect, test } from 'vitest'
import { callApi } from './support/api.js'
import {
  accessibilityViolations,
  type Browser,
  browserSkipReason,
  launchBrowser,
  screenshot,
  settled,
} from './support/browser.js'
import { type PlinthServer, startPlinth } from './support/server.js'

const EMAIL = 'records@example.com'
const PASSWORD = 'a long records password'
/** A 2×2 PNG, enough for the server to make a thumbnail of. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP8z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==',
  'base64',
)

describe('the admin app, records of a collection', () => {
  let server: PlinthServer | undefined
  let browser: Browser | undefined
  afterAll(async () => {
    await browser?.close()
    await server?.stop()
  })

  test('add, edit, filter, search, upload, import, see a change live, delete', {
    timeout: 300_000,
  }, async (context) => {
    const skip = browserSkipReason()
    if (skip) return context.skip(skip)
    server = await startPlinth()
    const setupToken = new URL(server.setupLink).hash.replace('#token=', '')
    const { token } = await callApi<{ token: string }>(server.url, '/api/setup', {
      token: setupToken,
      email: EMAIL,
      password: PASSWORD,
      passwordConfirm: PASSWORD,
    })
    await callApi(
      server.url,
      '/api/collections',
      { name: 'tags', type: 'base', fields: [{ name: 'name', type: 'text' }] },
      token,
    )
    const tag = await callApi<{ id: string }>(
      server.url,
      '/api/collections/tags/records',
      { name: 'urgent' },
      token,
    )
    await callApi(
      server.url,
      '/api/collections',
      {
        name: 'posts',
        type: 'base',
        fields: [
          { name: 'title', type: 'text', required: true },
          { name: 'views', type: 'number' },
          { name: 'published', type: 'bool' },
          { name: 'cover', type: 'file', maxSelect: 1, mimeTypes: ['image/*'] },
          { name: 'meta', type: 'json' },
          { name: 'kind', type: 'select', values: ['news', 'essay'], maxSelect: 1 },
          { name: 'due', type: 'date' },
          { name: 'body', type: 'editor' },
          { name: 'tag', type: 'relation', collection: 'tags', maxSelect: 1 },
        ],
        search: { fields: ['title'] },
      },
      token,
    )

    browser = await launchBrowser()
    const { page } = browser
    await page.goto(`${server.url}/_/collections/posts/records`)
    await page.getByRole('textbox', { name: 'Email' }).fill(EMAIL)
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD)
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    await page.getByRole('heading', { level: 1, name: 'Records of posts' }).waitFor()
    await page.getByText('posts has no records yet.').waitFor()

    // A record without its required title: the server's message shows beside the field.
    await page.getByRole('button', { name: 'New record' }).click()
    const form = page.getByRole('dialog', { name: 'New record in posts' })
    await form.getByRole('spinbutton', { name: 'views' }).fill('3')
    await form.getByRole('button', { name: 'Create record' }).click()
    await form.getByText(/^title: /).waitFor()
    expect(await accessibilityViolations(page)).toEqual([])
    await screenshot(page, 'record-form')
    await form.getByRole('textbox', { name: 'title (required)' }).fill('First post')
    await form.getByRole('combobox', { name: 'kind' }).selectOption('essay')
    await form.getByLabel('due').fill('2026-05-01T10:30')
    await form.getByRole('textbox', { name: 'meta' }).fill('{"tags": [')
    expect(await form.getByRole('button', { name: 'Create record' }).isDisabled()).toBe(true)
    await form.getByRole('textbox', { name: 'meta' }).fill('{"tags": ["a"]}')
    await form.getByRole('textbox', { name: 'body' }).click()
    await page.keyboard.type('Plain and ')
    await form.getByRole('button', { name: 'Bold' }).click()
    await page.keyboard.type('bold')
    await form.getByRole('button', { name: 'Create record' }).click()
    await form.waitFor({ state: 'detached' })
    const created = await callApi<{ items: Record<string, unknown>[] }>(
      server.url,
      '/api/collections/posts/records',
      undefined,
      token,
    )
    expect(created.items[0]).toMatchObject({
      title: 'First post',
      views: 3,
      kind: 'essay',
      due: '2026-05-01T10:30:00.000Z',
      meta: { tags: ['a'] },
      body: 'Plain and <b>bold</b>',
    })
    const grid = page.getByRole('grid', { name: 'Records of posts' })
    await grid.getByRole('gridcell', { name: 'First post' }).waitFor()

    // Keyboard: arrows move between cells, Enter on a text cell edits it in place, Enter saves.
    await grid.getByRole('gridcell', { name: '3', exact: true }).click()
    await page.keyboard.press('ArrowLeft')
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('First post')
    await page.keyboard.press('Enter')
    const inline = grid.getByRole('textbox', { name: /^title of / })
    await inline.fill('First post, edited')
    await inline.press('Enter')
    await grid.getByRole('gridcell', { name: 'First post, edited' }).waitFor()

    // An image: uploaded through the form, then shown as a thumbnail.
    const id = (await grid.getByRole('row').nth(1).getByRole('button').textContent()) ?? ''
    await grid.getByRole('button', { name: id }).click()
    const edit = page.getByRole('dialog', { name: `Edit record ${id}` })
    await edit.getByLabel('cover').setInputFiles({ name: 'cover.png', mimeType: 'image/png', buffer: PNG })
    await edit.getByRole('searchbox', { name: 'Find in tags' }).fill('urg')
    await edit.getByRole('button', { name: `Choose ${tag.id}` }).click()
    await edit.getByRole('button', { name: 'Save record' }).click()
    await edit.waitFor({ state: 'detached' })
    await grid.getByRole('button', { name: id }).click()
    const thumbnail = edit.getByRole('img', { name: /^Thumbnail of cover/ })
    await thumbnail.waitFor()
    await expect
      .poll(() => thumbnail.evaluate((img: HTMLImageElement) => img.naturalWidth))
      .toBeGreaterThan(0)
    expect(await thumbnail.getAttribute('src')).toContain('thumb=100x100')
    // Removing the file sends `cover-` with its name.
    await edit.getByRole('button', { name: /^Remove cover/ }).click()
    await edit.getByRole('button', { name: 'Save record' }).click()
    await edit.waitFor({ state: 'detached' })
    const saved = await callApi<Record<string, unknown>>(
      server.url,
      `/api/collections/posts/records/${id}`,
      undefined,
      token,
    )
    expect(saved).toMatchObject({ tag: tag.id, cover: '' })

    // Import: the second row lacks its title and is reported; the others are created.
    await page.getByLabel('Import CSV or JSON').setInputFiles({
      name: 'posts.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(
        'title,views,published\r\nImported one,10,true\r\n,11,false\r\n"Imported, two",12,true\r\n',
      ),
    })
    const rejected = page.getByRole('table', { name: 'Rejected rows' })
    await rejected.waitFor()
    expect(await rejected.getByRole('row').nth(1).textContent()).toMatch(/^2title/)
    await page.getByRole('status').filter({ hasText: '3 records' }).waitFor()

    // Filter: a bad one shows the server's message beside the box, a good one narrows the table.
    const filter = page.getByRole('textbox', { name: 'Filter' })
    await filter.fill('views >')
    await page.getByRole('button', { name: 'Apply' }).click()
    await expect.poll(() => filter.getAttribute('aria-invalid')).toBe('true')
    await filter.fill('views > 10')
    await page.getByRole('button', { name: 'Apply' }).click()
    await page
      .getByRole('status')
      .filter({ hasText: /^1 record$/ })
      .waitFor()
    await grid.getByRole('gridcell', { name: 'Imported, two' }).waitFor()

    // Search, through the collection's search index.
    await filter.fill('')
    await page.getByRole('searchbox', { name: 'Search' }).fill('imported')
    await page.getByRole('button', { name: 'Apply' }).click()
    await page
      .getByRole('status')
      .filter({ hasText: /^2 records$/ })
      .waitFor()
    await page.getByRole('searchbox', { name: 'Search' }).fill('')
    await page.getByRole('button', { name: 'Apply' }).click()
    await page
      .getByRole('status')
      .filter({ hasText: /^3 records$/ })
      .waitFor()

    // Live: a record created by a script appears without a reload.
    await callApi(server.url, '/api/collections/posts/records', { title: 'Made elsewhere', views: 1 }, token)
    await grid.getByRole('gridcell', { name: 'Made elsewhere' }).waitFor()
    await settled(page)
    expect(await accessibilityViolations(page)).toEqual([])
    await screenshot(page, 'records')

    // Export of the current filter (none): every record, as CSV.
    const download = page.waitForEvent('download')
    await page.getByRole('button', { name: 'Export CSV' }).click()
    const csv = readFileSync((await (await download).path())!, 'utf8')
      .trim()
      .split('\r\n')
    expect(csv).toHaveLength(5)
    expect(csv[0]).toContain('title')
    expect(csv.some((line) => line.includes('"Imported, two"'))).toBe(true)
    await page.getByRole('button', { name: 'Dark theme' }).click()
    await page.setViewportSize({ width: 768, height: 1024 })
    expect(await accessibilityViolations(page)).toEqual([])
    await screenshot(page, 'records-dark-tablet')

    // Bulk delete of two selected rows, through a batch.
    await grid.getByRole('checkbox').nth(0).check()
    await grid.getByRole('checkbox').nth(1).check()
    await page.getByRole('button', { name: 'Delete selected (2)' }).click()
    await page
      .getByRole('status')
      .filter({ hasText: /^2 records$/ })
      .waitFor()
  })
})
