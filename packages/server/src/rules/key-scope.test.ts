import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { createCollection, createRecord } from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'

const PASSWORD = 'user password 1'
const POSTS = '/api/collections/posts/records'

type Scopes = { collection: string; operations: string[] }[]

const postsOnly: Scopes = [{ collection: 'posts', operations: ['list', 'view'] }]
const withAuthors: Scopes = [...postsOnly, { collection: 'authors', operations: ['view'] }]
const withCompanies: Scopes = [...withAuthors, { collection: 'companies', operations: ['view'] }]
const authorsListOnly: Scopes = [...postsOnly, { collection: 'authors', operations: ['list'] }]
const everything: Scopes = [{ collection: '*', operations: ['list', 'view'] }]

/** A list request through an API key, and what it must answer: the titles found, or the parameter refused. */
const cases: {
  name: string
  scopes: Scopes
  query: string
  titles?: string[]
  refused?: 'filter' | 'sort'
}[] = [
  {
    name: 'filter into a collection out of scope',
    scopes: postsOnly,
    query: 'filter=author.name="Ann"',
    refused: 'filter',
  },
  {
    name: 'sort by a field of a collection out of scope',
    scopes: postsOnly,
    query: 'sort=author.name',
    refused: 'sort',
  },
  {
    name: 'filter on the email of an author out of scope',
    scopes: postsOnly,
    query: 'filter=author.email~"example"',
    refused: 'filter',
  },
  {
    name: 'a list scope on the related collection is not a view scope',
    scopes: authorsListOnly,
    query: 'filter=author.name="Ann"',
    refused: 'filter',
  },
  {
    name: 'the second hop out of scope',
    scopes: withAuthors,
    query: 'filter=author.company.name="Acme"',
    refused: 'filter',
  },
  {
    name: 'the second hop out of scope, in a sort',
    scopes: withAuthors,
    query: 'sort=author.company.name',
    refused: 'sort',
  },
  {
    name: 'a relation path of the signed-in record out of scope',
    scopes: postsOnly,
    query: 'filter=@request.auth.company.name="Acme"',
    refused: 'filter',
  },
  {
    name: 'filter on the relation id itself',
    scopes: postsOnly,
    query: 'filter=author!=""',
    titles: ['A1', 'B1'],
  },
  {
    name: 'filter into a collection in scope',
    scopes: withAuthors,
    query: 'filter=author.name="Ann"',
    titles: ['A1'],
  },
  { name: 'sort in scope', scopes: withAuthors, query: 'sort=-author.name', titles: ['B1', 'A1'] },
  {
    name: 'both hops in scope',
    scopes: withCompanies,
    query: 'filter=author.company.name="Acme"',
    titles: ['A1'],
  },
  {
    name: 'a wildcard scope reaches everything',
    scopes: everything,
    query: 'filter=author.company.name="Acme"&sort=author.name',
    titles: ['A1'],
  },
]

describe.each(testDialects)('API key scopes and relation paths on %s', (kind) => {
  let t: TestApp
  let userToken: string

  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind)
    await createCollection(t, {
      name: 'companies',
      fields: [{ name: 'name', type: 'text' }],
      listRule: '',
      viewRule: '',
    })
    await createCollection(t, {
      name: 'authors',
      fields: [
        { name: 'name', type: 'text' },
        { name: 'email', type: 'email' },
        { name: 'company', type: 'relation', collection: 'companies', maxSelect: 1 },
      ],
      listRule: '',
      viewRule: '',
    })
    await createCollection(t, {
      name: 'posts',
      fields: [
        { name: 'title', type: 'text' },
        { name: 'author', type: 'relation', collection: 'authors', maxSelect: 1 },
      ],
      listRule: '',
      viewRule: '',
    })
    await createCollection(t, {
      name: 'users',
      type: 'auth',
      fields: [{ name: 'company', type: 'relation', collection: 'companies', maxSelect: 1 }],
      createRule: '',
    })
    const acme = await createRecord(t, 'companies', { name: 'Acme' })
    const ann = await createRecord(t, 'authors', { name: 'Ann', email: 'ann@example.com', company: acme.id })
    const bea = await createRecord(t, 'authors', { name: 'Bea', email: 'bea@example.com' })
    await createRecord(t, 'posts', { title: 'A1', author: ann.id })
    await createRecord(t, 'posts', { title: 'B1', author: bea.id })
    const signUp = await t.request({
      method: 'POST',
      url: '/api/collections/users/records',
      auth: null,
      payload: { email: 'user@example.com', password: PASSWORD, passwordConfirm: PASSWORD, company: acme.id },
    })
    expect(signUp.statusCode, signUp.body).toBe(201)
    const signIn = await t.request({
      method: 'POST',
      url: '/api/collections/users/auth-with-password',
      auth: null,
      payload: { identity: 'user@example.com', password: PASSWORD },
    })
    userToken = signIn.json().token
  })
  afterEach(async () => t?.close())

  async function keyFor(scopes: Scopes, token = userToken): Promise<string> {
    const response = await t.request({
      method: 'POST',
      url: '/api/auth/api-keys',
      auth: token,
      payload: { name: 'script', scopes },
    })
    expect(response.statusCode, response.body).toBe(201)
    return response.json().key
  }

  const list = (query: string, auth: string) => t.request({ method: 'GET', url: `${POSTS}?${query}`, auth })
  const titles = (response: { json(): any }) => response.json().items.map((item: any) => item.title)

  test.each(cases)('$name', async ({ scopes, query, titles: expected, refused }) => {
    const response = await list(query, await keyFor(scopes))
    if (refused) {
      expect(response.statusCode, response.body).toBe(400)
      expect(response.headers['content-type']).toContain('application/problem+json')
      expect(response.json().type).toBe(`urn:plinth:error:invalid_${refused}`)
      expect(response.json().errors[refused].message).toContain('API key may not view')
      return
    }
    expect(response.statusCode, response.body).toBe(200)
    expect(titles(response)).toEqual(expected)
  })

  test('the same paths work for a signed-in session, where only the rules decide', async () => {
    const response = await list('filter=author.company.name="Acme"&sort=author.name', userToken)
    expect(response.statusCode, response.body).toBe(200)
    expect(titles(response)).toEqual(['A1'])
  })

  test('expand leaves out what the key may not view, without an error', async () => {
    const response = await list('expand=author.company&sort=title', await keyFor(withAuthors))
    expect(response.statusCode, response.body).toBe(200)
    const [first] = response.json().items
    expect(first.expand.author.name).toBe('Ann')
    expect(first.expand.author.expand).toBeUndefined()
  })

  test("a superuser's key is held to its scopes in relation paths and @collection", async () => {
    const narrow = await keyFor(postsOnly, t.token)
    for (const query of ['filter=author.name="Ann"', 'filter=@collection.authors.name?="Ann"']) {
      const response = await list(query, narrow)
      expect(response.statusCode, `${query}: ${response.body}`).toBe(400)
      expect(response.json().type).toBe('urn:plinth:error:invalid_filter')
    }
    const wide = await keyFor(withAuthors, t.token)
    expect(titles(await list('filter=author.name="Ann"', wide))).toEqual(['A1'])
    const lookup = await list('filter=@collection.authors.name?="Bea"&sort=title', wide)
    expect(lookup.statusCode, lookup.body).toBe(200)
    expect(titles(lookup)).toEqual(['A1', 'B1'])
    // Without a key the superuser reaches every collection, as before.
    expect((await list('filter=@collection.companies.name?="Acme"', t.token)).statusCode).toBe(200)
  })

  test("@collection stays closed to an ordinary user's key, whatever its scopes", async () => {
    const response = await list('filter=@collection.authors.name?="Ann"', await keyFor(everything))
    expect(response.statusCode).toBe(400)
    expect(response.json().type).toBe('urn:plinth:error:invalid_filter')
  })

  test("a related collection's view rule may follow relations out of the key scope", async () => {
    const patched = await t.request({
      method: 'PATCH',
      url: '/api/collections/authors',
      payload: { viewRule: 'company.name = "Acme"' },
    })
    expect(patched.statusCode, patched.body).toBe(200)
    const response = await list('filter=author.name~"a"&sort=title', await keyFor(withAuthors))
    expect(response.statusCode, response.body).toBe(200)
    // Bea's company is not Acme, so her author record is hidden and her post does not match.
    expect(titles(response)).toEqual(['A1'])
  })

  test('rules that follow relations out of the key scope still apply', async () => {
    const patched = await t.request({
      method: 'PATCH',
      url: '/api/collections/posts',
      payload: { listRule: 'author.company.name = "Acme"' },
    })
    expect(patched.statusCode, patched.body).toBe(200)
    const response = await list('sort=title', await keyFor(postsOnly))
    expect(response.statusCode, response.body).toBe(200)
    expect(titles(response)).toEqual(['A1'])
  })
})
