import { expect } from 'vitest'
import type { TestApp } from './app.js'

/** The schema most contract tests share: authors, and posts that belong to them. */
export const authorsDefinition = {
  name: 'authors',
  fields: [
    { name: 'name', type: 'text', required: true, max: 100 },
    { name: 'email', type: 'email' },
    { name: 'secret', type: 'text', hidden: true },
  ],
  indexes: [{ fields: ['email'], unique: true }],
  listRule: null,
  viewRule: null,
  createRule: null,
  updateRule: null,
  deleteRule: null,
}

export const postsDefinition = {
  name: 'posts',
  type: 'base',
  fields: [
    { name: 'title', type: 'text', required: true, max: 200 },
    { name: 'views', type: 'number', min: 0, onlyInt: true },
    { name: 'published', type: 'bool' },
    { name: 'author', type: 'relation', collection: 'authors', maxSelect: 1, onDelete: 'cascade' },
    { name: 'tags', type: 'select', values: ['news', 'tech', 'life'], maxSelect: 3 },
    { name: 'status', type: 'select', values: ['draft', 'live'] },
    { name: 'published_at', type: 'date' },
    { name: 'meta', type: 'json' },
    { name: 'body', type: 'editor' },
    { name: 'link', type: 'url' },
  ],
  indexes: [{ fields: ['author', 'created'] }, { fields: ['title'], unique: true }],
  listRule: null,
  viewRule: null,
  createRule: null,
  updateRule: null,
  deleteRule: null,
}

export async function createCollection(t: TestApp, definition: object): Promise<Record<string, any>> {
  const response = await t.request({ method: 'POST', url: '/api/collections', payload: definition })
  expect(response.statusCode, response.body).toBe(201)
  return response.json()
}

export async function createRecord(
  t: TestApp,
  collection: string,
  body: object,
): Promise<Record<string, any>> {
  const response = await t.request({
    method: 'POST',
    url: `/api/collections/${collection}/records`,
    payload: body,
  })
  expect(response.statusCode, response.body).toBe(201)
  return response.json()
}

export async function countRecords(t: TestApp, collection: string): Promise<number> {
  const response = await t.request({ method: 'GET', url: `/api/collections/${collection}/records?perPage=1` })
  expect(response.statusCode, response.body).toBe(200)
  return response.json().totalItems
}

export async function setupBlog(t: TestApp) {
  await createCollection(t, authorsDefinition)
  await createCollection(t, postsDefinition)
  const ada = await createRecord(t, 'authors', { name: 'Ada', email: 'ada@example.com', secret: 's1' })
  const bob = await createRecord(t, 'authors', { name: 'Bob', email: 'bob@example.com' })
  return { ada, bob }
}
