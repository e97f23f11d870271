import { describe, expect, test } from 'vitest'
import { checkPage, openSection, useSignedInAdmin } from './support/admin.js'
import { callApi } from './support/api.js'

const EMAIL = 'keeper@example.com'
const PASSWORD = 'a long backups password'

describe('the admin app, backups', () => {
  const admin = useSignedInAdmin({
    email: EMAIL,
    password: PASSWORD,
    prepare: async (server, token) => {
      await callApi(
        server.url,
        '/api/collections',
        { name: 'notes', fields: [{ name: 'title', type: 'text' }] },
        token,
      )
      await callApi(server.url, '/api/collections/notes/records', { title: 'before' }, token)
    },
  })

  test('a backup is made, downloaded and restored, and the data is as it was', {
    timeout: 180_000,
  }, async () => {
    const { server, browser, token } = admin
    const { page } = browser
    await openSection(page, 'Backups')
    await page.getByRole('button', { name: 'Make a backup' }).click()
    const backups = page.getByRole('table', { name: 'Backups' })
    const name = (await backups.getByRole('code').first().textContent()) as string
    expect(name).toMatch(/^plinth-backup-.*\.tar\.gz$/)
    await checkPage(page, 'backups')

    const download = page.waitForEvent('download')
    await backups.getByRole('button', { name: `Download ${name}` }).click()
    expect((await download).suggestedFilename()).toBe(name)

    await callApi(server.url, '/api/collections/notes/records', { title: 'after' }, token)
    await backups.getByRole('button', { name: `Restore ${name}` }).click()
    const restore = page.getByRole('form', { name: 'Restore a backup' })
    const confirm = restore.getByRole('button', { name: 'Replace all data with this backup' })
    expect(await confirm.isDisabled()).toBe(true)
    await restore.getByRole('textbox', { name: "Type the backup's name to confirm" }).fill(name)
    await checkPage(page, 'backups-restore')
    await confirm.click()
    await page
      .getByRole('status')
      .filter({ hasText: /^Restored/ })
      .waitFor()

    const notes = await callApi<{ items: { title: string }[] }>(
      server.url,
      '/api/collections/notes/records',
      undefined,
      token,
    )
    expect(notes.items.map((note) => note.title)).toEqual(['before'])
  })
})
