import SwaggerParser from '@apidevtools/swagger-parser'
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js'
import formatsModule, { type FormatsPlugin } from 'ajv-formats'
import type { FastifyInstance } from 'fastify'
import { expect } from 'vitest'
import type { TestApp } from './app.js'

export type Doc = Record<string, any>

const addFormats = ((formatsModule as any).default ?? formatsModule) as FormatsPlugin
const DOCUMENT_ID = 'https://plinth.test/openapi.json'
export const METHODS = ['get', 'put', 'post', 'patch', 'delete'] as const

export async function documentOf(t: TestApp, auth?: string | null): Promise<Doc> {
  const response = await t.request({ method: 'GET', url: '/api/openapi.json', auth })
  expect(response.statusCode, response.body).toBe(200)
  expect(response.headers['content-type']).toContain('application/json')
  return response.json()
}

/** JSON Pointer escaping (RFC 6901), for paths such as /api/collections/x/records. */
function pointer(...parts: string[]): string {
  return parts.map((part) => `/${part.replaceAll('~', '~0').replaceAll('/', '~1')}`).join('')
}

/**
 * Validates values against the document's schemas, formats included: a component
 * by name, or the JSON answer of an operation. Compiling every component up front
 * also proves each is valid JSON Schema 2020-12, which the OpenAPI validator leaves
 * unchecked.
 */
export function schemaValidator(doc: Doc) {
  const ajv = new Ajv2020({ strict: false, allErrors: true })
  addFormats(ajv)
  ajv.addSchema({ $id: DOCUMENT_ID, components: doc.components, paths: doc.paths })
  const compiled = new Map<string, ValidateFunction>()
  for (const [name, schema] of Object.entries(doc.components.schemas as Doc)) {
    if (!ajv.validateSchema(schema)) throw new Error(`${name}: ${ajv.errorsText(ajv.errors)}`)
    compiled.set(name, ajv.getSchema(`${DOCUMENT_ID}#${pointer('components', 'schemas', name)}`)!)
  }
  const run = (validate: ValidateFunction, value: unknown) => {
    const isValid = validate(value) as boolean
    return { isValid, errors: ajv.errorsText(validate.errors) }
  }
  const check = (name: string, value: unknown) => {
    const validate = compiled.get(name)
    if (!validate) throw new Error(`no schema ${name}`)
    return run(validate, value)
  }
  /** The answer of `method path` with this status, against the schema the document gives it. */
  check.answer = (method: string, path: string, status: number, value: unknown) => {
    const at = pointer(
      'paths',
      path,
      method,
      'responses',
      String(status),
      'content',
      'application/json',
      'schema',
    )
    const validate = ajv.getSchema(`${DOCUMENT_ID}#${at}`)
    if (!validate) throw new Error(`no answer ${status} for ${method} ${path}`)
    return run(validate, value)
  }
  return check
}

export function operations(doc: Doc): Array<{ path: string; method: string; operation: Doc }> {
  return Object.entries(doc.paths as Doc).flatMap(([path, item]) =>
    METHODS.filter((method) => item[method]).map((method) => ({ path, method, operation: item[method] })),
  )
}

export async function expectValidDocument(doc: Doc): Promise<void> {
  await SwaggerParser.validate(structuredClone(doc) as any)
  schemaValidator(doc)
  // The parser does not check these for OpenAPI 3, so the test does.
  const ids = operations(doc).map(({ operation }) => operation.operationId)
  expect(new Set(ids).size).toBe(ids.length)
  for (const name of Object.keys(doc.components.schemas)) expect(name).toMatch(/^[A-Za-z0-9._-]+$/)
  for (const { path, operation } of operations(doc)) {
    const declared = [...(doc.paths[path].parameters ?? []), ...(operation.parameters ?? [])]
      .map((p: Doc) => (p.$ref ? doc.components.parameters[p.$ref.split('/').pop()] : p))
      .filter((p: Doc) => p.in === 'path')
      .map((p: Doc) => p.name)
    const used = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1])
    expect(declared.sort(), `${path} ${operation.operationId}`).toEqual(used.sort())
  }
  const refs = JSON.stringify(doc).match(/"#\/components\/[^"]+"/g) ?? []
  for (const raw of new Set(refs)) {
    const [, , kind, name] = JSON.parse(raw).split('/')
    expect(doc.components[kind]?.[name], raw).toBeDefined()
  }
}

/**
 * Every route the app serves, as `{ method, path }` with the path as registered
 * (`/api/collections/:collection/records`). Read from Fastify's printed route
 * tree: each line adds its segment to those of the lines it hangs from.
 */
export function registeredRoutes(app: FastifyInstance): Array<{ method: string; path: string }> {
  const routes: Array<{ method: string; path: string }> = []
  const segments: string[] = []
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^((?:│ {3}| {4})*)[├└]── (\S+)(?: \(([A-Z, ]+)\))?/.exec(line)
    if (!match) continue
    segments.length = match[1]!.length / 4
    segments.push(match[2]!)
    for (const method of match[3]?.split(', ') ?? []) routes.push({ method, path: segments.join('') })
  }
  return routes
}
