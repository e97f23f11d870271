import { randomUUID } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, open, readdir, rename, rm, rmdir, stat } from 'node:fs/promises'
import { dirname, join, sep } from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { type ByteRange, type FileStorage, missingObject, type StoredObject } from './types.js'

/**
 * Files in a folder of the data directory. A write goes to a temporary name beside its
 * target and is renamed into place once complete and flushed, so a reader never sees
 * half a file and a crash leaves no object that looks whole.
 */
export class LocalStorage implements FileStorage {
  readonly kind = 'local'

  constructor(private readonly root: string) {}

  async write(key: string, body: Readable, _contentType: string): Promise<void> {
    const target = this.path(key)
    await mkdir(dirname(target), { recursive: true })
    const partial = `${target}.${randomUUID()}.partial`
    try {
      await pipeline(body, createWriteStream(partial, { flags: 'wx' }))
      const handle = await open(partial, 'r')
      try {
        await handle.sync()
      } finally {
        await handle.close()
      }
      await rename(partial, target)
    } catch (error) {
      await rm(partial, { force: true })
      throw error
    }
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    const path = this.path(key)
    // Opened before the stream is handed out, so a missing file is an error here, not mid-response.
    const handle = await open(path, 'r').catch((error: NodeJS.ErrnoException) => {
      throw error.code === 'ENOENT' ? missingObject(key) : error
    })
    return createReadStream(path, { fd: handle, ...(range ?? {}) })
  }

  async stat(key: string): Promise<StoredObject | null> {
    try {
      const found = await stat(this.path(key))
      return found.isFile() ? { size: found.size, modified: found.mtime } : null
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
      throw error
    }
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      const path = this.path(key)
      await rm(path, { force: true })
      await this.removeEmptyParents(dirname(path))
    }
  }

  async deletePrefix(prefix: string): Promise<void> {
    const path = this.path(prefix)
    await rm(path, { recursive: true, force: true })
    await this.removeEmptyParents(dirname(path))
  }

  async close(): Promise<void> {}

  async list(prefix = ''): Promise<string[]> {
    const entries = await readdir(this.root, { recursive: true, withFileTypes: true }).catch(
      (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return []
        throw error
      },
    )
    return entries
      .filter((entry) => entry.isFile())
      .map((entry) =>
        join(entry.parentPath, entry.name)
          .slice(this.root.length + 1)
          .split(sep)
          .join('/'),
      )
      .filter((key) => key.startsWith(prefix))
      .sort()
  }

  private path(key: string): string {
    return join(this.root, ...key.split('/'))
  }

  /** Folders left empty by a delete go too, up to the root: a record's files leave no trace. */
  private async removeEmptyParents(folder: string): Promise<void> {
    let current = folder
    while (current.length > this.root.length && current.startsWith(this.root)) {
      try {
        await rmdir(current)
      } catch {
        return
      }
      current = dirname(current)
    }
  }
}
