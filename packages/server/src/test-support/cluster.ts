import { randomBytes } from 'node:crypto'
import type { PlinthConfig } from '../config/index.js'
import { createApp } from '../http/index.js'
import { createTestApp, signedInTestApp, type TestApp } from './app.js'
import type { TestDialect } from './databases.js'

/** A Redis key prefix of its own, so tests running side by side on one Redis never meet. */
export function testRedisPrefix(): string {
  return `t${randomBytes(5).toString('hex')}:`
}

/**
 * `count` nodes of one deployment in this process: one database, one data folder, one
 * secret, each node with its own core and HTTP app, as separate machines would have.
 * Closing the first closes them all.
 */
export async function createTestNodes(
  kind: TestDialect,
  count: number,
  overrides: Parameters<typeof createTestApp>[1] = {},
): Promise<TestApp[]> {
  const first = await createTestApp(kind, overrides)
  const others: TestApp[] = []
  try {
    for (let i = 1; i < count; i++) {
      const config: PlinthConfig = { ...first.config, nodeId: `node-${i}` }
      const app = await createApp(config)
      others.push(await signedInTestApp(app, config, () => app.close()))
    }
  } catch (error) {
    await closeAll(others, first)
    throw error
  }
  const close = first.close
  first.close = () => closeAll(others, { close })
  return [first, ...others]
}

async function closeAll(others: TestApp[], first: Pick<TestApp, 'close'>): Promise<void> {
  await Promise.all(others.map((node) => node.close()))
  await first.close()
}
