import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { problemHandling } from '../http/problem.js'
import { findAdminBuild } from './build.js'
import { ADMIN_CSP, adminRoutes } from './index.js'

const ASSET = '/_/assets/app-Dk3f9a.js'
const IMMUTABLE = 'public, max-age=31536000, immutable'
/** Each variant says which it is, so a test sees which file was sent. */
const bodies = { plain: 'console.log("plain")', br: 'brotli bytes', gz: 'gzip bytes' }

let dist: string
let app: FastifyInstance | undefined

beforeAll(() => {
  dist = mkdtempSync(join(tmpdir(), 'plinth-admin-'))
  mkdirSync(join(dist, 'assets'))
  writeFileSync(join(dist, 'index.html'), '<!doctype html><div id="root"></div>')
  writeFileSync(join(dist, 'assets/app-Dk3f9a.js'), bodies.plain)
  writeFileSync(join(dist, 'assets/app-Dk3f9a.js.br'), bodies.br)
  writeFileSync(join(dist, 'assets/app-Dk3f9a.js.gz'), bodies.gz)
  writeFileSync(join(dist, 'assets/small-Q1w2e3.css'), 'body{}')
})
afterAll(() => rmSync(dist, { recursive: true, force: true }))
afterEach(async () => {
  await app?.close()
  app = undefined
})

async function serve(build: string | null): Promise<FastifyInstance> {
  app = Fastify()
  await app.register(problemHandling, { bodyLimit: 1 << 20, isStaleSchema: () => false })
  await app.register(adminRoutes, { dist: build })
  return app
}

describe('the admin app at /_/', () => {
  test.each([
    ['br, gzip', 'br', bodies.br],
    ['gzip, deflate', 'gzip', bodies.gz],
    ['identity', undefined, bodies.plain],
  ])(
    'a hashed asset asked for with %s is cached for good, in the encoding the client takes',
    async (accept, encoding, body) => {
      const app = await serve(dist)
      const response = await app.inject({ url: ASSET, headers: { 'accept-encoding': accept } })
      expect(response.statusCode).toBe(200)
      expect(response.body).toBe(body)
      expect(response.headers['content-encoding']).toBe(encoding)
      expect(response.headers['content-type']).toContain('javascript')
      expect(response.headers['cache-control']).toBe(IMMUTABLE)
      expect(String(response.headers.vary).toLowerCase()).toContain('accept-encoding')
    },
  )

  test('an asset without compressed variants is sent as it is', async () => {
    const app = await serve(dist)
    const response = await app.inject({
      url: '/_/assets/small-Q1w2e3.css',
      headers: { 'accept-encoding': 'br' },
    })
    expect(response.statusCode).toBe(200)
    expect(response.body).toBe('body{}')
    expect(response.headers['content-encoding']).toBeUndefined()
    expect(response.headers['cache-control']).toBe(IMMUTABLE)
  })

  test.each(['/_/', '/_/index.html', '/_/setup', '/_/collections/posts/records?page=2'])(
    '%s answers the app page, asked for again on each visit and under the strict CSP',
    async (url) => {
      const app = await serve(dist)
      const response = await app.inject({ url })
      expect(response.statusCode).toBe(200)
      expect(response.headers['content-type']).toContain('text/html')
      expect(response.body).toContain('<div id="root">')
      expect(response.headers['cache-control']).toBe('no-cache')
      expect(response.headers['content-security-policy']).toBe(ADMIN_CSP)
    },
  )

  test.each([
    ['a missing asset', '/_/assets/gone-a1b2c3.js'],
    ['a compressed variant by its own name', `${ASSET}.br`],
    ["a path of the server's own pages", '/_/auth/no-such-page'],
  ])('%s is a 404 problem, not the app page', async (_what, url) => {
    const app = await serve(dist)
    const response = await app.inject({ url })
    expect(response.statusCode).toBe(404)
    expect(response.headers['content-type']).toContain('application/problem+json')
  })

  test('/_ leads to /_/', async () => {
    const app = await serve(dist)
    const response = await app.inject({ url: '/_' })
    expect(response.statusCode).toBe(301)
    expect(response.headers.location).toBe('/_/')
  })

  test.each(['/_/', '/_/setup', '/_/assets/app.js'])(
    'without a build, %s says so in a 503 problem',
    async (url) => {
      const app = await serve(null)
      const response = await app.inject({ url })
      expect(response.statusCode).toBe(503)
      expect(response.headers['content-type']).toContain('application/problem+json')
      expect(response.json()).toMatchObject({ type: 'urn:plinth:error:admin_not_built' })
      expect(response.json().detail).toContain('npm run build')
    },
  )

  test('the build is found through the admin package, wherever the server runs from', () => {
    const built = fileURLToPath(new URL('../../../admin/dist', import.meta.url))
    const previous = process.cwd()
    process.chdir(tmpdir())
    try {
      expect(findAdminBuild()).toBe(built)
    } finally {
      process.chdir(previous)
    }
  })
})
