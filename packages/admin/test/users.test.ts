import { beforeAll, describe, expect, test } from 'vitest'
import { checkPage, openSection, until, useSignedInAdmin } from './support/admin.js'
import { callApi } from './support/api.js'
import { launchBrowser } from './support/browser.js'

const EMAIL = 'people@example.com'
const PASSWORD = 'a long people password'
const MEMBER = 'member@example.com'
const MEMBER_PASSWORD = 'a long member password'

describe('the admin app, users', () => {
  let memberId: string
  let memberToken: string
  const admin = useSignedInAdmin({
    email: EMAIL,
    password: PASSWORD,
    // The member signs up and in by script, as an app using the API would.
    prepare: async (server, token) => {
      await callApi(server.url, '/api/collections', { name: 'members', type: 'auth', createRule: '' }, token)
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
    },
  })

  beforeAll(async () => {
    await admin.browser?.context.grantPermissions(['clipboard-read', 'clipboard-write'], {
      origin: admin.server.url,
    })
  })

  test('a user is found, verified, and their session ended so that their token is refused', {
    timeout: 120_000,
  }, async () => {
    const { server, browser, token: superuserToken } = admin
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

  test('an auth collection gets sign-in providers and options, each refused in plain words until right', {
    timeout: 120_000,
  }, async () => {
    const { server, browser, token: superuserToken } = admin
    const { page } = browser
    await openSection(page, 'Collections')
    await page.getByRole('link', { name: 'Edit members' }).click()
    const providers = page.getByRole('form', { name: 'OAuth2 providers' })
    await providers.getByRole('combobox', { name: 'Provider to add' }).selectOption({ label: 'GitLab' })
    await providers.getByRole('button', { name: 'Add the provider' }).click()
    const gitlab = providers.getByRole('group', { name: 'GitLab' })
    await gitlab.getByRole('textbox', { name: 'Client ID' }).fill('plinth-app')
    await gitlab.getByLabel('Client secret').fill('a client secret')
    await gitlab.getByRole('textbox', { name: 'Issuer' }).fill('http://gitlab.example.com')
    await gitlab.getByRole('textbox', { name: 'Redirect URLs' }).fill('https://app.example.com/cb?next=1')
    await providers.getByRole('checkbox', { name: 'Let people sign in with these providers' }).check()
    await providers.getByRole('button', { name: 'Save the providers' }).click()
    await gitlab.getByText('Issuer: must use https (http only for localhost)').waitFor()
    await gitlab.getByText('Redirect URLs: must not carry a query, fragment or credentials').waitFor()
    const unsaved = await callApi<{ providers: unknown[] }>(
      server.url,
      '/api/collections/members/oauth2-providers',
      undefined,
      superuserToken,
    )
    expect(unsaved.providers).toEqual([])

    await gitlab.getByRole('textbox', { name: 'Issuer' }).fill('')
    await gitlab
      .getByRole('textbox', { name: 'Redirect URLs' })
      .fill('https://app.example.com/cb\ncom.example.app:/cb')
    await providers.getByRole('button', { name: 'Save the providers' }).click()
    await providers.getByRole('status').filter({ hasText: 'The providers are saved.' }).waitFor()
    await checkPage(page, 'collection-oauth2')
    const methods = await callApi<{ oauth2: { enabled: boolean; providers: { name: string }[] } }>(
      server.url,
      '/api/collections/members/auth-methods',
    )
    expect(methods.oauth2.enabled).toBe(true)
    expect(methods.oauth2.providers.map((provider) => provider.name)).toEqual(['gitlab'])
    const saved = await fetch(`${server.url}/api/collections/members/oauth2-providers`, {
      headers: { authorization: `Bearer ${superuserToken}` },
    })
    const body = await saved.text()
    expect(body).not.toContain('a client secret')
    expect(JSON.parse(body).providers[0]).toMatchObject({
      name: 'gitlab',
      clientSecretSet: true,
      issuer: null,
      redirectURLs: ['https://app.example.com/cb', 'com.example.app:/cb'],
    })

    await page.getByRole('checkbox', { name: 'Only verified users may sign in' }).check()
    await page.getByRole('spinbutton', { name: 'Minimum length' }).fill('4')
    await page.getByRole('button', { name: 'Save changes' }).click()
    await page.getByText('Minimum length: ').waitFor()
    await page.getByRole('spinbutton', { name: 'Minimum length' }).fill('12')
    await page.getByRole('checkbox', { name: 'Require a digit' }).check()
    await page.getByRole('button', { name: 'Save changes' }).click()
    await page
      .getByRole('status')
      .filter({ hasText: /^Saved\.$/ })
      .waitFor()
    const members = await callApi<{ options: Record<string, unknown> }>(
      server.url,
      '/api/collections/members',
      undefined,
      superuserToken,
    )
    expect(members.options).toMatchObject({
      onlyVerified: true,
      passwordPolicy: { minLength: 12, requireDigit: true },
    })
  })

  test('a user made in the app signs in elsewhere and sees only what the rule allows', {
    timeout: 120_000,
  }, async () => {
    const { server, browser, token: superuserToken } = admin
    const { page } = browser
    await callApi(
      server.url,
      '/api/collections',
      {
        name: 'diary',
        fields: [
          { name: 'text', type: 'text' },
          { name: 'owner', type: 'relation', collection: 'members', maxSelect: 1 },
        ],
        listRule: 'owner = @request.auth.id',
        viewRule: 'owner = @request.auth.id',
      },
      superuserToken,
    )
    await page.goto(`${server.url}/_/collections/members/records`)
    await page.getByRole('heading', { level: 1, name: 'Records of members' }).waitFor()
    await page.getByRole('button', { name: 'New record' }).click()
    const form = page.getByRole('dialog', { name: 'New record in members' })
    await form.getByLabel(/^email( \(required\))?$/).fill('writer@example.com')
    await form.getByLabel(/^password( \(required\))?$/).fill('a long writer password 7')
    // The collection's options (set above) want a verified address to sign in.
    await form.getByRole('checkbox', { name: 'verified' }).check()
    await form.getByRole('button', { name: 'Create record' }).click()
    await form.waitFor({ state: 'detached' })
    const writer = await callApi<{ items: { id: string }[] }>(
      server.url,
      `/api/collections/members/records?filter=${encodeURIComponent('email = "writer@example.com"')}`,
      undefined,
      superuserToken,
    )
    const writerId = writer.items[0]!.id
    for (const [text, owner] of [
      ['mine', writerId],
      ['not mine', memberId],
    ])
      await callApi(server.url, '/api/collections/diary/records', { text, owner }, superuserToken)

    // Another browser, as the app the user signs in to would be: no superuser session there.
    const elsewhere = await launchBrowser()
    try {
      await elsewhere.page.goto(`${server.url}/_/sign-in`)
      const seen = await elsewhere.page.evaluate(async () => {
        const signIn = await fetch('/api/collections/members/auth-with-password', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ identity: 'writer@example.com', password: 'a long writer password 7' }),
        })
        const { token } = (await signIn.json()) as { token: string }
        const list = await fetch('/api/collections/diary/records', {
          headers: { authorization: `Bearer ${token}` },
        })
        const anonymous = await fetch('/api/collections/diary/records')
        return {
          texts: ((await list.json()) as { items: { text: string }[] }).items.map((entry) => entry.text),
          anonymous: ((await anonymous.json()) as { items: unknown[] }).items.length,
        }
      })
      expect(seen).toEqual({ texts: ['mine'], anonymous: 0 })
    } finally {
      await elsewhere.close()
    }
    // The superuser, meanwhile, sees both in the app.
    await page.goto(`${server.url}/_/collections/diary/records`)
    const grid = page.getByRole('grid', { name: 'Records of diary' })
    await grid.getByRole('gridcell', { name: 'not mine' }).waitFor()
    await grid.getByRole('gridcell', { name: 'mine', exact: true }).waitFor()
  })

  test('an API key is made with its scopes, works for them only, and stops when revoked', {
    timeout: 120_000,
  }, async () => {
    const { server, browser } = admin
    const { page } = browser
    await openSection(page, 'API keys')
    await page.getByText('No API keys yet.').waitFor()
    await page.getByRole('button', { name: 'New API key' }).click()
    const form = page.getByRole('form', { name: 'New API key' })
    await form.getByRole('textbox', { name: 'Name' }).fill('nightly export')
    await form.getByLabel('Expires').fill('2001-01-01')
    await form.getByRole('combobox', { name: 'Collection' }).selectOption('members')
    await form.getByRole('button', { name: 'Make the key' }).click()
    // The server's words land beside the field they concern, and no key is made.
    await form.getByText('Expires: must be in the future').waitFor()
    await form.getByLabel('Expires').fill('')
    await form.getByRole('button', { name: 'Add a scope' }).click()
    const second = form.getByRole('group', { name: 'Scope 2' })
    await second.getByRole('combobox', { name: 'Collection' }).selectOption('members')
    await form.getByRole('button', { name: 'Make the key' }).click()
    await form.getByText('Scope 2: is already named by another scope').waitFor()
    await form.getByRole('button', { name: 'Remove scope 2' }).click()
    await form.getByRole('button', { name: 'Make the key' }).click()

    const key = await page.getByRole('textbox', { name: 'API key' }).inputValue()
    expect(key).toMatch(/^plk_/)
    await checkPage(page, 'api-key-made')
    await page.getByRole('button', { name: 'Done' }).click()
    const keys = page.getByRole('table', { name: 'API keys' })
    await keys.getByRole('cell', { name: 'members: list, view' }).waitFor()
    await checkPage(page, 'api-keys')

    const asKey = (path: string, init: RequestInit = {}) =>
      fetch(`${server.url}${path}`, { ...init, headers: { authorization: `Bearer ${key}`, ...init.headers } })
    expect((await asKey('/api/collections/members/records')).status).toBe(200)
    const write = await asKey('/api/collections/members/records', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        email: 'scripted@example.com',
        password: 'a long password',
        passwordConfirm: 'a long password',
      }),
    })
    expect(write.status).toBe(403)

    page.once('dialog', (dialog) => void dialog.accept())
    await keys.getByRole('button', { name: 'Revoke nightly export' }).click()
    await page.getByText('No API keys yet.').waitFor()
    expect((await asKey('/api/collections/members/records')).status).toBe(401)
  })
})
