import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { createTestApp, SUPERUSER_EMAIL, SUPERUSER_PASSWORD, type TestApp } from '../test-support/app.js'
import { createCollection, createRecord } from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { type Doc, documentOf, operations } from '../test-support/openapi-document.js'

const SEGMENTS = ['__proto__', 'constructor', 'prototype', 'constructor.prototype']
const PROBES = ['polluted', 'x', 'y', 'isAdmin']

/** `a.b` as nested JSON text around a poisoned leaf; text, because a JS literal would set the prototype. */
function nestedJson(path: string, leaf: string): string {
  return path
    .split('.')
    .reverse()
    .reduce((inner, key) => `{${JSON.stringify(key)}:${inner}}`, leaf)
}

function resolve(doc: Doc, value: Doc | undefined): Doc | undefined {
  if (!value?.$ref) return value
  return resolve(
    doc,
    value.$ref
      .split('/')
      .slice(1)
      .reduce((node: Doc, key: string) => node?.[key], doc),
  )
}

function queryNames(doc: Doc, path: string, operation: Doc): string[] {
  return [...(doc.paths[path].parameters ?? []), ...(operation.parameters ?? [])]
    .map((parameter: Doc) => resolve(doc, parameter)!)
    .filter((parameter: Doc) => parameter.in === 'query')
    .map((parameter: Doc) => parameter.name as string)
}

function bodyKeys(doc: Doc, operation: Doc): string[] | null {
  const content = operation.requestBody?.content?.['application/json']
  if (!content) return null
  const schema = resolve(doc, content.schema) ?? {}
  const variants = [schema, ...((schema.oneOf ?? schema.anyOf ?? []) as Doc[]).map((s) => resolve(doc, s)!)]
  return [...new Set(variants.flatMap((s) => Object.keys(s.properties ?? {})))]
}

/** Every query string and JSON body of one operation that carries a prototype key. */
function poisonedRequests(doc: Doc, path: string, operation: Doc) {
  const requests: Array<{ query: string; body?: string }> = []
  for (const segment of SEGMENTS) {
    for (const name of queryNames(doc, path, operation))
      for (const value of [segment, `${segment}.polluted`, `expand.${segment}.polluted`, `${segment} = 1`])
        requests.push({ query: `${encodeURIComponent(name)}=${encodeURIComponent(value)}` })
    requests.push({ query: `${encodeURIComponent(segment)}=1` })
    requests.push({ query: `${encodeURIComponent(`${segment}[polluted]`)}=1` })
    const keys = bodyKeys(doc, operation)
    if (keys === null) continue
    const poison = nestedJson(segment, '{"polluted":true}')
    requests.push({ query: '', body: poison })
    requests.push({
      query: '',
      body: `{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(segment)}`)}}`,
    })
    requests.push({ query: '', body: `{${keys.map((k) => `${JSON.stringify(k)}:${poison}`)}}` })
    requests.push({ query: '', body: `{${keys.map((k) => `${JSON.stringify(k)}:[${poison}]`)}}` })
  }
  return requests
}

describe.each(testDialects)('prototype keys in every parameter of every endpoint on %s', (kind) => {
  let t: TestApp
  let noteId: string
  beforeAll(async () => {
    if (shouldSkip(kind)) return
    t = await createTestApp(kind)
    const open = { listRule: '', viewRule: '', createRule: '', updateRule: '', deleteRule: '' }
    await createCollection(t, { name: 'notes', fields: [{ name: 'title', type: 'text' }], ...open })
    await createCollection(t, { name: 'spare', fields: [{ name: 'data', type: 'json' }], ...open })
    await createCollection(t, { name: 'members', type: 'auth', ...open })
    noteId = (await createRecord(t, 'notes', { title: 'first' })).id
  })
  afterAll(async () => t?.close())
  beforeEach((context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
  })

  test('no answer is a 5xx, and nothing reaches Object.prototype', { timeout: 120_000 }, async () => {
    const doc = await documentOf(t)
    const prototypeNames = Object.getOwnPropertyNames(Object.prototype).sort()
    const failures: string[] = []
    let sent = 0
    for (const { path, method, operation } of operations(doc)) {
      // A stream answers with no end to wait for: realtime-input tests send it these keys.
      if (operation.responses?.['200']?.content?.['text/event-stream']) continue
      const url = path.replace('{id}', path.includes('/notes/') ? noteId : 'x').replace(/\{[^}]+\}/g, 'spare')
      for (const { query, body } of poisonedRequests(doc, path, operation)) {
        for (const auth of [null, undefined]) {
          const response = await t.request({
            method: method.toUpperCase() as 'GET',
            url: query ? `${url}?${query}` : url,
            auth,
            ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body }),
          })
          sent++
          if (response.statusCode >= 500)
            failures.push(`${method.toUpperCase()} ${url}?${query} ${body ?? ''} → ${response.statusCode}`)
        }
      }
    }
    expect(sent).toBeGreaterThan(1000)
    expect(failures).toEqual([])

    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeNames)
    const probe = {} as Record<string, unknown>
    for (const name of PROBES) expect(probe[name], name).toBeUndefined()
    const signIn = await t.request({
      method: 'POST',
      url: '/api/collections/_superusers/auth-with-password',
      payload: { identity: SUPERUSER_EMAIL, password: SUPERUSER_PASSWORD },
      auth: null,
    })
    expect(signIn.statusCode, signIn.body).toBe(200)
    const created = await t.request({
      method: 'POST',
      url: '/api/collections/notes/records',
      payload: { title: 'after' },
      auth: signIn.json().token,
    })
    expect(created.statusCode, created.body).toBe(201)
  })
})
