import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { allTodos, createParentOwner, type ParentOwner, seedTodo } from '../test-support/parent-owner.js'
import { url } from '../test-support/rules-blog.js'

/** `@request.body.<relation>.<field>` in rules: the parent the body names, read by id. */
describe.each(testDialects)('@request.body through a relation on %s', (kind) => {
  let world: ParentOwner

  beforeAll(async () => {
    if (shouldSkip(kind)) return
    world = await createParentOwner(kind)
    const pins = await world.t.request({
      method: 'POST',
      url: '/api/collections',
      payload: {
        name: 'pins',
        fields: [{ name: 'lists', type: 'relation', collection: 'lists', maxSelect: 3 }],
        createRule: '@request.auth.id != "" && @request.body.lists.owner = @request.auth.id',
      },
    })
    expect(pins.statusCode, pins.body).toBe(201)
  })
  afterAll(async () => world?.t.close())
  beforeEach((context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
  })

  const collection = async (name: string) =>
    (await world.t.request({ method: 'GET', url: `/api/collections/${name}` })).json()
  const setRules = (name: string, payload: object) =>
    world.t.request({ method: 'PATCH', url: `/api/collections/${name}`, payload })
  const countOf = async (name: string) =>
    (await world.t.request({ method: 'GET', url: url(name) })).json().totalItems as number

  test.for([
    { rule: '@request.body.list.nope = @request.auth.id', position: 19, why: 'Unknown field "nope"' },
    {
      rule: '@request.body.list.__proto__ = @request.auth.id',
      position: 19,
      why: '"__proto__" is a reserved name',
    },
    {
      rule: '@request.body.__proto__.owner = @request.auth.id',
      position: 14,
      why: '"__proto__" is a reserved name',
    },
    { rule: '@request.body.nope.owner = @request.auth.id', position: 14, why: 'Unknown field "nope"' },
    {
      rule: '@request.auth.id != "" && @request.body.list.owner.nope = 1',
      position: 51,
      why: 'Unknown field "nope"',
    },
  ])(
    'a create rule $rule is a 400 at position $position, and nothing changes',
    async ({ rule, position, why }) => {
      const before = await collection('todos')
      const response = await setRules('todos', { createRule: rule })
      expect(response.statusCode, response.body).toBe(400)
      expect(response.headers['content-type']).toContain('application/problem+json')
      expect(response.json().errors.createRule).toEqual({
        code: 'invalid_rule',
        message: `${why} (at position ${position})`,
      })
      expect(await collection('todos')).toEqual(before)
    },
  )

  test('a field that is not a relation has no fields to follow', async () => {
    const response = await setRules('todos', { createRule: '@request.body.title.owner = @request.auth.id' })
    expect(response.statusCode).toBe(400)
    expect(response.json().errors.createRule.message).toBe(
      '"title" is not a relation, so it has no fields (at position 19)',
    )
  })

  test('in a filter, an unknown field after the relation is a 400 with the position', async () => {
    const filter = encodeURIComponent('@request.body.list.nope = "x"')
    const response = await world.t.request({
      method: 'GET',
      url: url('todos', undefined, `?filter=${filter}`),
      auth: world.ann.token,
    })
    expect(response.statusCode).toBe(400)
    expect(response.json()).toMatchObject({ type: 'urn:plinth:error:invalid_filter', position: 19 })
  })

  test.for([
    { name: 'an id that does not exist', list: randomUUID(), field: 'list' },
    { name: 'a number', list: 42, field: 'list' },
    { name: 'a list of ids', list: ['LIST'], field: 'list' },
    { name: 'an object', list: { id: 'LIST' }, field: 'list' },
    { name: 'null', list: null, field: 'list' },
    { name: 'an empty string', list: '', field: 'list' },
    // Refused as the body is read, before any field: no stored text may hold NUL.
    { name: 'an id with a NUL', list: 'LIST\u0000', field: undefined },
  ])('a create naming $name as the list is refused and stores nothing', async ({ list, field }) => {
    const swap = (value: unknown): unknown =>
      value === 'LIST'
        ? world.lists.annList
        : typeof value === 'string'
          ? value.replace('LIST', world.lists.annList)
          : Array.isArray(value)
            ? value.map(swap)
            : value && typeof value === 'object'
              ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, swap(v)]))
              : value
    const before = await allTodos(world.t)
    const response = await world.t.request({
      method: 'POST',
      url: url('todos'),
      auth: world.ann.token,
      payload: { list: swap(list), title: 'sneaky' },
    })
    expect(response.statusCode, response.body).toBe(400)
    expect(response.headers['content-type']).toContain('application/problem+json')
    if (field) expect(response.json().errors[field]).toBeDefined()
    expect(await allTodos(world.t)).toEqual(before)
  })

  test('a body with a __proto__ key is refused and stores nothing', async () => {
    const before = await allTodos(world.t)
    const response = await world.t.request({
      method: 'POST',
      url: url('todos'),
      auth: world.bob.token,
      headers: { 'content-type': 'application/json' },
      payload: `{"list":"${world.lists.annList}","__proto__":{"owner":"${world.bob.id}"}}`,
    })
    expect(response.statusCode).toBe(400)
    expect(response.headers['content-type']).toContain('application/problem+json')
    expect(await allTodos(world.t)).toEqual(before)
  })

  test.for([
    { operator: '=', lists: ['annList', 'annOther'], status: 201 },
    { operator: '=', lists: ['annList', 'bobList'], status: 403 },
    { operator: '=', lists: [], status: 403 },
    { operator: '?=', lists: ['annList', 'bobList'], status: 201 },
    { operator: '?=', lists: ['bobList'], status: 403 },
    { operator: '?=', lists: [], status: 403 },
  ] as const)(
    'through a multi relation, $operator with $lists answers $status',
    async ({ operator, lists, status }) => {
      const rule = `@request.auth.id != "" && @request.body.lists.owner ${operator} @request.auth.id`
      expect((await setRules('pins', { createRule: rule })).statusCode).toBe(200)
      const before = await countOf('pins')
      const response = await world.t.request({
        method: 'POST',
        url: url('pins'),
        auth: world.ann.token,
        payload: { lists: lists.map((name) => world.lists[name]) },
      })
      expect(response.statusCode, response.body).toBe(status)
      expect(await countOf('pins')).toBe(before + (status === 201 ? 1 : 0))
    },
  )

  test('in an update rule, a move can be checked through the body instead', async () => {
    const { lists } = world
    const id = await seedTodo(world, lists.annList)
    const rule =
      'list.owner = @request.auth.id && (@request.body.list:isset = false || @request.body.list.owner = @request.auth.id)'
    const set = await setRules('todos', { updateRule: rule, options: { updateRuleChecksNewRecord: false } })
    expect(set.statusCode, set.body).toBe(200)
    try {
      const move = (list: string) =>
        world.t.request({ method: 'PATCH', url: url('todos', id), auth: world.ann.token, payload: { list } })
      expect((await move(lists.bobList)).statusCode).toBe(404)
      expect((await move(lists.annOther)).statusCode).toBe(200)
    } finally {
      await setRules('todos', { updateRule: 'list.owner = @request.auth.id', options: {} })
    }
  })
})
