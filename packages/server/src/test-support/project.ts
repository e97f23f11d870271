import { randomBytes } from 'node:crypto'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect } from 'vitest'
import type { PlinthConfig } from '../config/index.js'
import { createApp } from '../http/index.js'
import { createTestApp, signedInTestApp, type TestApp } from './app.js'
import type { TestDialect } from './databases.js'

/** Inside the package, so a config's `import … from 'plinth'` resolves as in a project. */
const TMP = fileURLToPath(new URL('../../.vitest-tmp/', import.meta.url))

/** Writes a project config file in a folder of its own; answers its path. */
export function writeProjectConfig(
  source: string,
  name = 'plinth.config.ts',
): { file: string; remove(): void } {
  const dir = join(TMP, `project-${randomBytes(6).toString('hex')}`)
  mkdirSync(dir, { recursive: true })
  const file = join(dir, name)
  writeFileSync(file, source)
  return { file, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

/**
 * A test app whose collections exist before the project config loads (it names
 * them), started with that config: the first app creates the collections, the
 * second one, on the same database, serves them with the project's hooks and routes
 * (and `overrides`, such as a broker to consume from).
 */
export async function createProjectApp(
  kind: TestDialect,
  collections: Record<string, unknown>[],
  source: string | { file: string },
  overrides: Partial<PlinthConfig> = {},
): Promise<TestApp & { file: string }> {
  const base = await createTestApp(kind)
  for (const definition of collections) {
    const created = await base.request({ method: 'POST', url: '/api/collections', payload: definition })
    expect(created.statusCode, created.body).toBe(201)
  }
  await base.app.close()
  const config = typeof source === 'string' ? writeProjectConfig(source) : { ...source, remove() {} }
  try {
    const app = await createApp({ ...base.config, ...overrides, projectConfig: config.file })
    const project = await signedInTestApp(app, app.plinth.config, async () => {
      await app.close()
      await base.close()
      config.remove()
    })
    return { ...project, file: config.file }
  } catch (error) {
    await base.close()
    config.remove()
    throw error
  }
}
