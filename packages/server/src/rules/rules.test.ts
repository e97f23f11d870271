import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { type Blog, createBlog, PASSWORD, seed, type User, url } from '../test-support/rules-blog.js'

/** Rules with @request.auth relations, @request.body :changed, @collection lookups and email visibility, through HTTP. */
describe.each(testDialects)('rules on %s', (kind) => {
  let blog: Blog
  let ann: User
  let bob: User
  const ids: Record<string, string> = {}

  beforeAll(async () => {
    if (shouldSkip(kind)) return
    blog = await createBlog(kind)
    ;({ ann, bob } = blog)
    const { t } = blog
    const collection = async (payload: object) => {
      const response = await t.request({ method: 'POST', url: '/api/collections', payload })
      expect(response.statusCode, response.body).toBe(201)
    }
    ids.red = await seed(t, 'teams', { name: 'Red' })
    ids.blue = await seed(t, 'teams', { name: 'Blue' })
    const promoted = await t.request({
      method: 'PATCH',
      url: url('users', ann.id),
      payload: { team: ids.red, role: 'admin' },
    })
    expect(promoted.statusCode, promoted.body).toBe(200)
    // A verified token remembers its record for under a second; a new sign-in sees the change now.
    const again = await t.request({
      method: 'POST',
      url: '/api/collections/users/auth-with-password',
      auth: null,
      payload: { identity: ann.email, password: PASSWORD },
    })
    ann = { ...ann, token: again.json().token }
    await collection({
      name: 'boards',
      fields: [
        { name: 'team', type: 'relation', collection: 'teams', maxSelect: 1 },
        { name: 'owner', type: 'relation', collection: 'users', maxSelect: 1 },
        { name: 'title', type: 'text' },
      ],
      listRule: 'team = @request.auth.team && @request.auth.role = "admin" && @request.auth.verified = false',
      viewRule: '@request.auth.team.name = "Red"',
      updateRule: 'owner = @request.auth.id && @request.body.owner:changed = false',
    })
    ids.redBoard = await seed(t, 'boards', { team: ids.red, owner: ann.id, title: 'r' })
    ids.blueBoard = await seed(t, 'boards', { team: ids.blue, owner: ann.id, title: 'b' })
    await collection({
      name: 'memberships',
      fields: [
        { name: 'user', type: 'relation', collection: 'users', maxSelect: 1 },
        { name: 'board', type: 'relation', collection: 'boards', maxSelect: 1 },
        { name: 'muted', type: 'bool', hidden: true },
      ],
    })
    await seed(t, 'memberships', { user: ann.id, board: ids.redBoard, muted: false })
    await seed(t, 'memberships', { user: bob.id, board: ids.blueBoard, muted: true })
    await collection({
      name: 'cards',
      fields: [
        { name: 'board', type: 'relation', collection: 'boards', maxSelect: 1 },
        { name: 'text', type: 'text' },
      ],
      listRule:
        '@collection.memberships.user ?= @request.auth.id && @collection.memberships.board ?= board && @collection.memberships.muted ?= false',
      viewRule: '@collection.memberships.user ?= @request.auth.id && @collection.memberships.board ?= board',
    })
    ids.redCard = await seed(t, 'cards', { board: ids.redBoard, text: 'red card' })
    ids.blueCard = await seed(t, 'cards', { board: ids.blueBoard, text: 'blue card' })
    await collection({
      name: 'people',
      type: 'auth',
      fields: [{ name: 'name', type: 'text' }],
      listRule: '',
      viewRule: '',
      createRule: '',
    })
  })
  afterAll(async () => blog?.t.close())
  beforeEach((context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
  })

  const listIds = async (path: string, auth: string | null) =>
    (await blog.t.request({ method: 'GET', url: path, auth })).json().items.map((item: any) => item.id)

  test("@request.auth reads the caller's own fields and relations", async () => {
    expect(await listIds(url('boards'), ann.token)).toEqual([ids.redBoard])
    expect(await listIds(url('boards'), bob.token)).toEqual([])
    expect(
      (await blog.t.request({ method: 'GET', url: url('boards', ids.blueBoard), auth: ann.token }))
        .statusCode,
    ).toBe(200)
    expect(
      (await blog.t.request({ method: 'GET', url: url('boards', ids.redBoard), auth: bob.token })).statusCode,
    ).toBe(404)
  })

  test(':changed compares the body with the stored record', async () => {
    const patch = (payload: object) =>
      blog.t.request({ method: 'PATCH', url: url('boards', ids.redBoard), auth: ann.token, payload })
    expect((await patch({ title: 'renamed' })).statusCode).toBe(200)
    expect((await patch({ owner: ann.id, title: 'same owner' })).statusCode).toBe(200)
    expect((await patch({ owner: bob.id })).statusCode).toBe(404)
    const stored = await blog.t.request({ method: 'GET', url: url('boards', ids.redBoard) })
    expect(stored.json()).toMatchObject({ owner: ann.id, title: 'same owner' })
  })

  test('@collection lookups in rules, hidden fields included, on one membership row', async () => {
    expect(await listIds(url('cards'), ann.token)).toEqual([ids.redCard])
    // Bob is a member of the blue board, but muted: the hidden field counts in the rule.
    expect(await listIds(url('cards'), bob.token)).toEqual([])
    expect(await listIds(url('cards'), null)).toEqual([])
    expect(
      (await blog.t.request({ method: 'GET', url: url('cards', ids.blueCard), auth: bob.token })).statusCode,
    ).toBe(200)
    expect(
      (await blog.t.request({ method: 'GET', url: url('cards', ids.blueCard), auth: ann.token })).statusCode,
    ).toBe(404)
  })

  test('@request.auth.id != "" lets in signed-in callers only, and = "" guests only', async () => {
    const { t } = blog
    const made = await t.request({
      method: 'POST',
      url: '/api/collections',
      payload: {
        name: 'guestbook',
        fields: [{ name: 'text', type: 'text' }],
        listRule: '@request.auth.id != ""',
        viewRule: '@request.auth.id = ""',
        createRule: '@request.auth.id != ""',
        updateRule: '@request.auth.id = ""',
        deleteRule: '@request.auth.id != ""',
      },
    })
    expect(made.statusCode, made.body).toBe(201)
    const entry = await seed(t, 'guestbook', { text: 'first' })
    const callers = { anonymous: null, owner: ann.token, other: bob.token, superuser: undefined }
    const answers: Record<string, number[]> = {}
    for (const [name, auth] of Object.entries(callers)) {
      const as = (method: 'GET' | 'POST' | 'PATCH', path: string, payload?: object) =>
        t.request({ method, url: path, auth, ...(payload ? { payload } : {}) })
      answers[name] = [
        (await as('GET', url('guestbook'))).json().items?.length ?? -1,
        (await as('GET', url('guestbook', entry))).statusCode,
        (await as('POST', url('guestbook'), { text: `by ${name}` })).statusCode,
        (await as('PATCH', url('guestbook', entry), { text: `changed by ${name}` })).statusCode,
      ]
    }
    // [listed, view, create, update]; superusers pass every rule.
    expect(answers).toEqual({
      anonymous: [0, 200, 403, 200],
      owner: [1, 404, 201, 404],
      other: [2, 404, 201, 404],
      superuser: [3, 200, 201, 200],
    })
    const stored = await t.request({ method: 'GET', url: url('guestbook', entry) })
    expect(stored.json().text).toBe('changed by superuser')
  })

  test('a rule naming an unknown collection is refused when saved', async () => {
    const response = await blog.t.request({
      method: 'PATCH',
      url: '/api/collections/cards',
      payload: { listRule: '@collection.nope.user ?= @request.auth.id' },
    })
    expect(response.statusCode).toBe(400)
    expect(response.json().errors.listRule.code).toBe('invalid_rule')
  })

  test('emailVisibility: the email shows to its owner, superusers, or everyone when visible', async () => {
    const signUpPerson = async (email: string, emailVisibility: boolean) => {
      const created = await blog.t.request({
        method: 'POST',
        url: url('people'),
        auth: null,
        payload: { email, emailVisibility, password: PASSWORD, passwordConfirm: PASSWORD },
      })
      expect(created.statusCode, created.body).toBe(201)
      const signIn = await blog.t.request({
        method: 'POST',
        url: '/api/collections/people/auth-with-password',
        auth: null,
        payload: { identity: email, password: PASSWORD },
      })
      return { id: created.json().id as string, token: signIn.json().token as string }
    }
    const open = await signUpPerson('open@example.com', true)
    const shy = await signUpPerson('shy@example.com', false)
    const emails = async (auth: string | null | undefined, query = '') => {
      const response = await blog.t.request({ method: 'GET', url: url('people', undefined, query), auth })
      return Object.fromEntries(response.json().items.map((p: any) => [p.id, p.email]))
    }
    expect(await emails(null)).toEqual({ [open.id]: 'open@example.com', [shy.id]: undefined })
    expect(await emails(shy.token)).toEqual({ [open.id]: 'open@example.com', [shy.id]: 'shy@example.com' })
    expect(await emails(undefined)).toEqual({ [open.id]: 'open@example.com', [shy.id]: 'shy@example.com' })
    // Nor can a filter or sort probe a hidden email.
    const probe = `?filter=${encodeURIComponent('email ~ "shy"')}`
    expect(await emails(null, probe)).toEqual({})
    expect(await emails(open.token, probe)).toEqual({})
    expect(Object.keys(await emails(shy.token, probe))).toEqual([shy.id])
    expect(Object.keys(await emails(undefined, probe))).toEqual([shy.id])
  })
})
