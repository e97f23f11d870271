import { expect } from 'vitest'
import { createTestApp, type TestApp } from './app.js'
import type { TestDialect } from './databases.js'
import { seed, signUp, type User, url } from './rules-blog.js'

/**
 * The parent-owner recipe of docs/rules.md: users own lists, and a todo belongs to whoever
 * owns its list. Who may do what is written in these rules only.
 */
export const ownsList = 'list.owner = @request.auth.id'

export const parentOwnerCollections = [
  {
    name: 'users',
    type: 'auth',
    fields: [{ name: 'name', type: 'text' }],
    listRule: 'id = @request.auth.id',
    viewRule: 'id = @request.auth.id',
    createRule: '',
  },
  {
    name: 'lists',
    fields: [
      { name: 'owner', type: 'relation', collection: 'users', maxSelect: 1, required: true },
      { name: 'name', type: 'text' },
    ],
    listRule: 'owner = @request.auth.id',
    viewRule: 'owner = @request.auth.id',
    createRule: '@request.auth.id != "" && @request.body.owner = @request.auth.id',
    updateRule: 'owner = @request.auth.id',
    deleteRule: 'owner = @request.auth.id',
  },
  {
    name: 'todos',
    fields: [
      { name: 'list', type: 'relation', collection: 'lists', maxSelect: 1, required: true },
      { name: 'title', type: 'text' },
    ],
    listRule: ownsList,
    viewRule: ownsList,
    createRule: '@request.auth.id != "" && @request.body.list.owner = @request.auth.id',
    updateRule: ownsList,
    deleteRule: ownsList,
  },
]

export interface ParentOwner {
  t: TestApp
  ann: User
  bob: User
  /** Lists by name: annList, annOther (Ann's second list), bobList. */
  lists: Record<'annList' | 'annOther' | 'bobList', string>
}

export async function createParentOwner(kind: TestDialect): Promise<ParentOwner> {
  const t = await createTestApp(kind)
  for (const payload of parentOwnerCollections) {
    const created = await t.request({ method: 'POST', url: '/api/collections', payload })
    expect(created.statusCode, created.body).toBe(201)
  }
  const ann = await signUp(t, 'ann@example.com')
  const bob = await signUp(t, 'bob@example.com')
  const lists = {
    annList: await seed(t, 'lists', { owner: ann.id, name: 'Ann' }),
    annOther: await seed(t, 'lists', { owner: ann.id, name: 'Ann, other' }),
    bobList: await seed(t, 'lists', { owner: bob.id, name: 'Bob' }),
  }
  return { t, ann, bob, lists }
}

/** A todo made by a superuser in the given list. */
export function seedTodo(world: ParentOwner, list: string, title = 'a todo'): Promise<string> {
  return seed(world.t, 'todos', { list, title })
}

/** Every todo as a superuser sees it, by id, so a test can tell that nothing changed. */
export async function allTodos(t: TestApp): Promise<Record<string, unknown>[]> {
  const response = await t.request({ method: 'GET', url: url('todos', undefined, '?perPage=500&sort=id') })
  expect(response.statusCode, response.body).toBe(200)
  return response.json().items
}
