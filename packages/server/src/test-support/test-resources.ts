import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { PlinthConfig } from '../config/index.js'
import { type Core, createCore } from '../core/index.js'
import { freshPostgresUrl } from './databases.js'
import { type ServerProcess, startServer } from './server-process.js'

/** What a test makes and undoes at its end, newest first: folders, PostgreSQL schemas, servers. */
export class TestResources {
  readonly #undo: Array<() => Promise<void>> = []

  add(undo: () => Promise<void>): void {
    this.#undo.push(undo)
  }

  folder(prefix = 'plinth-test-'): string {
    const dir = mkdtempSync(join(tmpdir(), prefix))
    this.add(async () => rmSync(dir, { recursive: true, force: true }))
    return dir
  }

  /** A URL of a fresh PostgreSQL schema of its own. */
  async postgres(): Promise<string> {
    const database = await freshPostgresUrl()
    this.add(database.drop)
    return database.url
  }

  /** The built CLI's server, stopped (drained) at the end. */
  async server(args: string[], env: Record<string, string> = {}): Promise<ServerProcess> {
    const server = await startServer(args, env)
    this.add(async () => {
      server.child.kill('SIGTERM')
      await server.exited
    })
    return server
  }

  async release(): Promise<void> {
    for (const undo of this.#undo.splice(0).reverse()) await undo()
  }
}

/** Runs `work` with the core of a deployment, outside any CLI process, and closes it. */
export async function withCore<T>(config: PlinthConfig, work: (core: Core) => Promise<T>): Promise<T> {
  const core = await createCore(config)
  try {
    return await work(core)
  } finally {
    await core.close()
  }
}
