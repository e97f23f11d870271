import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import {
  allTodos,
  createParentOwner,
  ownsList,
  type ParentOwner,
  parentOwnerCollections,
  seedTodo,
} from '../test-support/parent-owner.js'
import { stored, url } from '../test-support/rules-blog.js'

/*
 * The parent-owner recipe: a todo belongs to whoever owns its list. The update rule holds on
 * the todo as it is and, like PostgreSQL's WITH CHECK, on the todo as the update leaves it,
 * so nobody can move a todo into a list they do not own. "owner" is Ann, whose list holds
 * the target todo; "other" is Bob.
 */
const callers = ['anonymous', 'owner', 'other', 'superuser'] as const
type CallerName = (typeof callers)[number]
type Row = Record<CallerName, number>

const matrix: { operation: 'list' | 'view' | 'create' | 'update' | 'delete'; expected: Row }[] = [
  // For the list, 200 means the target is listed and 404 that it is left out.
  { operation: 'list', expected: { anonymous: 404, owner: 200, other: 404, superuser: 200 } },
  { operation: 'view', expected: { anonymous: 404, owner: 200, other: 404, superuser: 200 } },
  { operation: 'create', expected: { anonymous: 403, owner: 201, other: 403, superuser: 201 } },
  { operation: 'update', expected: { anonymous: 404, owner: 200, other: 404, superuser: 200 } },
  { operation: 'delete', expected: { anonymous: 404, owner: 204, other: 404, superuser: 204 } },
]

const moves: { name: string; caller: CallerName; from: Lists; to: Lists; status: number }[] = [
  { name: "into another owner's list", caller: 'owner', from: 'annList', to: 'bobList', status: 403 },
  { name: "into one's own other list", caller: 'owner', from: 'annList', to: 'annOther', status: 200 },
  { name: "out of another owner's list", caller: 'other', from: 'annList', to: 'bobList', status: 404 },
  { name: "of one's own into another's list", caller: 'other', from: 'bobList', to: 'annList', status: 403 },
  { name: 'anywhere, by a superuser', caller: 'superuser', from: 'annList', to: 'bobList', status: 200 },
  { name: 'by nobody in particular', caller: 'anonymous', from: 'annList', to: 'annOther', status: 404 },
]
type Lists = keyof ParentOwner['lists']

const createRules = ['@request.body.list.owner = @request.auth.id', ownsList]
const todosCreateRule = parentOwnerCollections.find((c) => c.name === 'todos')!.createRule

describe.each(testDialects)('the update rule on the record as it would be, on %s', (kind) => {
  let world: ParentOwner
  let bearer: Record<CallerName, string | null | undefined>

  beforeAll(async () => {
    if (shouldSkip(kind)) return
    world = await createParentOwner(kind)
    bearer = { anonymous: null, owner: world.ann.token, other: world.bob.token, superuser: undefined }
  })
  afterAll(async () => world?.t.close())
  beforeEach((context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
  })

  const setTodos = (payload: object) =>
    world.t.request({ method: 'PATCH', url: '/api/collections/todos', payload })
  const patch = (caller: CallerName, id: string, payload: object) =>
    world.t.request({ method: 'PATCH', url: url('todos', id), auth: bearer[caller], payload })

  test.for(
    matrix.flatMap(({ operation, expected }) =>
      callers.map((caller) => ({ operation, caller, status: expected[caller] })),
    ),
  )('$operation a todo of the owner as $caller: $status', async ({ operation, caller, status }) => {
    const { t, lists } = world
    const id = await seedTodo(world, lists.annList)
    const auth = bearer[caller]
    if (operation === 'list') {
      const response = await t.request({ method: 'GET', url: url('todos', undefined, '?perPage=500'), auth })
      expect(response.statusCode, response.body).toBe(200)
      const ids = response.json().items.map((item: { id: string }) => item.id)
      expect(ids.includes(id)).toBe(status === 200)
      return
    }
    const before = await allTodos(t)
    const response =
      operation === 'view'
        ? await t.request({ method: 'GET', url: url('todos', id), auth })
        : operation === 'create'
          ? await t.request({ method: 'POST', url: url('todos'), auth, payload: { list: lists.annList } })
          : operation === 'update'
            ? await patch(caller, id, { title: 'renamed' })
            : await t.request({ method: 'DELETE', url: url('todos', id), auth })
    expect(response.statusCode, response.body).toBe(status)
    if (status >= 400) {
      expect(response.headers['content-type']).toContain('application/problem+json')
      expect(await allTodos(t)).toEqual(before)
    }
  })

  test.for(createRules)('the create rule %s: each caller creates only in a list of his own', async (rule) => {
    const { t, lists } = world
    expect((await setTodos({ createRule: `@request.auth.id != "" && ${rule}` })).statusCode).toBe(200)
    const create = (caller: CallerName, list: string) =>
      t.request({ method: 'POST', url: url('todos'), auth: bearer[caller], payload: { list } })
    const cells: [CallerName, string, number][] = [
      ['anonymous', lists.annList, 403],
      ['owner', lists.annList, 201],
      ['owner', lists.bobList, 403],
      ['other', lists.annList, 403],
      ['other', lists.bobList, 201],
      ['superuser', lists.bobList, 201],
    ]
    try {
      for (const [caller, list, status] of cells) {
        const before = await allTodos(t)
        const response = await create(caller, list)
        expect(response.statusCode, `${caller} in ${list}: ${response.body}`).toBe(status)
        expect((await allTodos(t)).length).toBe(before.length + (status === 201 ? 1 : 0))
      }
    } finally {
      await setTodos({ createRule: todosCreateRule })
    }
  })

  test.for(moves)('a move $name answers $status', async ({ caller, from, to, status }) => {
    const { t, lists } = world
    const id = await seedTodo(world, lists[from])
    const before = await allTodos(t)
    const response = await patch(caller, id, { list: lists[to], title: 'moved' })
    expect(response.statusCode, response.body).toBe(status)
    if (status === 200) {
      expect(response.json()).toMatchObject({ list: lists[to], title: 'moved' })
      return
    }
    expect(response.headers['content-type']).toContain('application/problem+json')
    if (status === 403) {
      expect(response.json()).toMatchObject({
        type: 'urn:plinth:error:forbidden',
        detail: 'The update rule does not allow the record as it would be.',
      })
    }
    expect(await allTodos(t)).toEqual(before)
  })

  test('a refused move changes nothing: not the list, the title, the version nor updated', async () => {
    const { t, lists } = world
    const id = await seedTodo(world, lists.annList, 'keep me')
    const read = () => t.request({ method: 'GET', url: url('todos', id) })
    const before = await read()
    const response = await patch('owner', id, { list: lists.bobList, title: 'taken' })
    expect(response.statusCode, response.body).toBe(403)
    const after = await read()
    expect(after.json()).toEqual(before.json())
    expect(after.headers.etag).toBe(before.headers.etag)
    // And the record still answers to its owner exactly as before.
    expect((await patch('owner', id, { title: 'still mine' })).statusCode).toBe(200)
  })

  test('a batch with a refused move applies nothing', async () => {
    const { t, lists } = world
    const kept = await seedTodo(world, lists.annList, 'kept')
    const moved = await seedTodo(world, lists.annList, 'moved')
    const before = await allTodos(t)
    const todos = url('todos')
    const response = await t.request({
      method: 'POST',
      url: '/api/batch',
      auth: world.ann.token,
      payload: {
        requests: [
          { method: 'PATCH', url: `${todos}/${kept}`, body: { title: 'changed' } },
          { method: 'POST', url: todos, body: { list: lists.annList, title: 'new' } },
          { method: 'PATCH', url: `${todos}/${moved}`, body: { list: lists.annOther } },
          { method: 'PATCH', url: `${todos}/${moved}`, body: { list: lists.bobList } },
        ],
      },
    })
    expect(response.statusCode, response.body).toBe(400)
    expect(response.headers['content-type']).toContain('application/problem+json')
    expect(response.json()).toMatchObject({
      type: 'urn:plinth:error:batch_failed',
      failedIndex: 3,
      failedStatus: 403,
      failedCode: 'forbidden',
    })
    expect(await allTodos(t)).toEqual(before)
  })

  test('a batch of allowed moves applies, and a superuser may move anywhere in one', async () => {
    const { t, lists } = world
    const id = await seedTodo(world, lists.annList)
    const batch = (auth: string | undefined, list: string) =>
      t.request({
        method: 'POST',
        url: '/api/batch',
        auth,
        payload: { requests: [{ method: 'PATCH', url: url('todos', id), body: { list } }] },
      })
    expect((await batch(world.ann.token, lists.annOther)).statusCode).toBe(200)
    expect((await batch(undefined, lists.bobList)).statusCode).toBe(200)
    expect((await stored(t, 'todos', id))!.list).toBe(lists.bobList)
  })

  test('updateRuleChecksNewRecord: false restores the check on the record as it was only', async () => {
    const { t, lists } = world
    const id = await seedTodo(world, lists.annList)
    const optOut = await setTodos({ options: { updateRuleChecksNewRecord: false } })
    expect(optOut.statusCode, optOut.body).toBe(200)
    expect(optOut.json().options).toEqual({ updateRuleChecksNewRecord: false })
    try {
      const response = await patch('owner', id, { list: lists.bobList })
      expect(response.statusCode, response.body).toBe(200)
      expect((await stored(t, 'todos', id))!.list).toBe(lists.bobList)
    } finally {
      expect((await setTodos({ options: {} })).statusCode).toBe(200)
    }
    const back = await seedTodo(world, lists.annList)
    expect((await patch('owner', back, { list: lists.bobList })).statusCode).toBe(403)
  })

  test('the OpenAPI document tells that an update leaving a denied record answers 403', async () => {
    const updateDescription = async () => {
      const document = (await world.t.request({ method: 'GET', url: '/api/openapi.json' })).json()
      return document.paths['/api/collections/todos/records/{id}'].patch.description as string
    }
    expect(await updateDescription()).toContain('answers 403')
    expect((await setTodos({ options: { updateRuleChecksNewRecord: false } })).statusCode).toBe(200)
    try {
      expect(await updateDescription()).not.toContain('403')
    } finally {
      await setTodos({ options: {} })
    }
  })

  test.for([
    { name: 'not a bool', options: { updateRuleChecksNewRecord: 'no' }, code: 'invalid_type' },
    { name: 'null', options: { updateRuleChecksNewRecord: null }, code: 'invalid_type' },
  ])('updateRuleChecksNewRecord $name is a 400 and changes nothing', async ({ options, code }) => {
    const before = (await world.t.request({ method: 'GET', url: '/api/collections/todos' })).json()
    const response = await setTodos({ options })
    expect(response.statusCode, response.body).toBe(400)
    expect(response.json().errors['options.updateRuleChecksNewRecord'].code).toBe(code)
    expect((await world.t.request({ method: 'GET', url: '/api/collections/todos' })).json()).toEqual(before)
  })
})
