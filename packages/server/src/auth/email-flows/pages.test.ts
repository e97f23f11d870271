import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { createTestApp, type TestApp } from '../../test-support/app.js'

describe('the confirm pages at /_/auth/<action>', () => {
  let t: TestApp
  beforeEach(async () => {
    t = await createTestApp('sqlite')
  })
  afterEach(async () => t?.close())

  test.each(['confirm-verification', 'confirm-password-reset', 'confirm-email-change'])(
    '%s is a static page with its form, loading its script from a file',
    async (action) => {
      const page = await t.request({ method: 'GET', url: `/_/auth/${action}`, auth: null })
      expect(page.statusCode).toBe(200)
      expect(page.headers['content-type']).toBe('text/html; charset=utf-8')
      expect(page.headers['cache-control']).toBe('no-store')
      expect(page.body).toContain(`<form id="${action}" hidden>`)
      expect(page.body).toContain('<script src="/_/auth/confirm.js" defer></script>')
      expect(page.body).not.toMatch(/<script>|<style>|\son[a-z]+=/i)
    },
  )

  test('the script and the stylesheet are served, the script posting to the API without cookies', async () => {
    const script = await t.request({ method: 'GET', url: '/_/auth/confirm.js', auth: null })
    expect(script.statusCode).toBe(200)
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8')
    expect(script.body).toContain("credentials: 'omit'")
    expect(script.body).toContain('location.hash')
    const style = await t.request({ method: 'GET', url: '/_/auth/confirm.css', auth: null })
    expect(style.statusCode).toBe(200)
    expect(style.headers['content-type']).toBe('text/css; charset=utf-8')
  })

  test('an unknown action is not a page', async () => {
    const response = await t.request({ method: 'GET', url: '/_/auth/confirm-anything', auth: null })
    expect(response.statusCode).toBe(404)
  })
})
