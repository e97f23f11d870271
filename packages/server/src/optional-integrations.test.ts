import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { CLI, NODE_FLAGS, type ServerProcess, startServer } from './test-support/server-process.js'

const ENTRY = new URL('../dist/index.js', import.meta.url).href

/**
 * Clients of integrations a deployment may not use. Loading them all costs about 1 s, which
 * every start, every CLI command and every test file would pay for nothing, so each loads
 * only where its integration is configured (docs/benchmarks.md). The password hashers are
 * here too: they load with the first password to hash or check, not at start.
 */
const OPTIONAL_PACKAGES = [
  '@node-rs/argon2',
  'bcryptjs',
  '@aws-sdk/client-s3',
  '@aws-sdk/lib-storage',
  '@opentelemetry/exporter-trace-otlp-http',
  '@opentelemetry/resources',
  '@opentelemetry/sdk-trace-base',
  '@opentelemetry/sdk-trace-node',
  '@nats-io/jetstream',
  '@nats-io/transport-node',
  '@simplewebauthn/server',
  'ioredis',
  'memjs',
  'mqtt',
  'nodemailer',
  'rabbitmq-client',
  'sharp',
]

// Resolve hooks see every import of an ES module, ours included, before it loads.
const RECORDER = `
import { appendFileSync } from 'node:fs'
let log
export function initialize(data) { log = data.log }
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context)
  appendFileSync(log, resolved.url + '\\n')
  return resolved
}
`

let dir: string
let log: string
let register: string[]

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'plinth-optional-'))
  log = join(dir, 'resolved.log')
  writeFileSync(join(dir, 'recorder.mjs'), RECORDER)
  writeFileSync(
    join(dir, 'register.mjs'),
    `import { register } from 'node:module'\n` +
      `register(${JSON.stringify(pathToFileURL(join(dir, 'recorder.mjs')).href)}, { data: { log: ${JSON.stringify(log)} } })\n`,
  )
  register = ['--import', pathToFileURL(join(dir, 'register.mjs')).href]
})

afterEach(() => {
  rmSync(dir, { recursive: true, force: true })
})

/** The optional packages the process resolved, by name. */
function loadedOptionalPackages(): string[] {
  const urls = existsSync(log) ? readFileSync(log, 'utf8').split('\n') : []
  return OPTIONAL_PACKAGES.filter((name) => urls.some((url) => url.includes(`/node_modules/${name}/`)))
}

describe('optional integrations load only where configured', () => {
  test('importing the package entry loads none of them', async () => {
    await promisify(execFile)(process.execPath, [
      ...register,
      '--input-type=module',
      '-e',
      `await import(${JSON.stringify(ENTRY)})`,
    ])
    expect(readFileSync(log, 'utf8')).toContain('/dist/index.js')
    expect(loadedOptionalPackages()).toEqual([])
  })

  describe('a running server', () => {
    let server: ServerProcess | undefined
    afterEach(async () => {
      server?.child.kill('SIGTERM')
      await server?.exited
      server = undefined
    })

    const start = (env: Record<string, string>) =>
      startServer(['--dir', join(dir, 'data')], { PLINTH_LOG_LEVEL: 'silent', ...env }, [
        process.execPath,
        ...NODE_FLAGS,
        ...register,
        CLI,
      ])

    test('with nothing configured loads none of them', async () => {
      server = await start({})
      expect(loadedOptionalPackages()).toEqual([])
    })

    test('loads the clients of the brokers and stores it is configured with at start-up', async () => {
      // Nothing listens on port 1: the clients load and keep trying to connect, which is enough.
      server = await start({
        PLINTH_EVENTS_MQTT_URL: 'mqtt://127.0.0.1:1',
        PLINTH_REDIS_URL: 'redis://127.0.0.1:1',
      })
      expect(loadedOptionalPackages()).toEqual(['ioredis', 'mqtt'])
    })
  })
})
