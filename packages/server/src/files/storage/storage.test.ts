import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { text } from 'node:stream/consumers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type S3TestServer, startS3Server } from '../../test-support/s3-server.js'
import { LocalStorage } from './local.js'
import { S3Storage } from './s3.js'
import { type FileStorage, isMissingObject } from './types.js'

function failingAfter(chunk: string): Readable {
  let sent = false
  return new Readable({
    read() {
      if (sent) {
        this.destroy(new Error('client went away'))
        return
      }
      sent = true
      this.push(chunk)
    },
  })
}

const kinds = ['local', 's3'] as const

describe.each(kinds)('file storage: %s', (kind) => {
  let storage: FileStorage
  let cleanup: () => Promise<void>

  beforeAll(async () => {
    if (kind === 'local') {
      const dir = await mkdtemp(join(tmpdir(), 'plinth-storage-'))
      storage = new LocalStorage(dir)
      cleanup = () => rm(dir, { recursive: true, force: true })
    } else {
      const server: S3TestServer = await startS3Server()
      storage = new S3Storage(server.config)
      cleanup = server.close
    }
  })
  afterAll(async () => {
    await storage.close()
    await cleanup()
  })

  it('stores a stream and reads it back whole and by range', async () => {
    await storage.write(
      'c1/hello_abc.txt',
      Readable.from([Buffer.from('hello '), Buffer.from('world')]),
      'text/plain',
    )
    expect(await text(await storage.read('c1/hello_abc.txt'))).toBe('hello world')
    expect(await text(await storage.read('c1/hello_abc.txt', { start: 6, end: 10 }))).toBe('world')
    const stat = await storage.stat('c1/hello_abc.txt')
    expect(stat?.size).toBe(11)
    expect(stat?.modified).toBeInstanceOf(Date)
  })

  it('says a missing object is missing', async () => {
    expect(await storage.stat('c1/none.txt')).toBeNull()
    const error = await storage.read('c1/none.txt').catch((caught) => caught)
    expect(isMissingObject(error)).toBe(true)
  })

  it('leaves nothing behind when the source stream fails mid-way', async () => {
    await expect(
      storage.write('c1/broken.bin', failingAfter('x'.repeat(1000)), 'application/octet-stream'),
    ).rejects.toThrow()
    expect(await storage.stat('c1/broken.bin')).toBeNull()
    expect(await storage.list('c1/broken')).toEqual([])
  })

  it('deletes single keys and whole prefixes, missing ones included', async () => {
    for (const key of ['c2/a.txt', 'c2/thumbs/a.txt/10x10', 'c2/thumbs/a.txt/20x20', 'c3/b.txt'])
      await storage.write(key, Readable.from([key]), 'text/plain')
    await storage.delete(['c2/a.txt', 'c2/never-there.txt'])
    expect(await storage.stat('c2/a.txt')).toBeNull()
    await storage.deletePrefix('c2/thumbs/a.txt/')
    expect(await storage.stat('c2/thumbs/a.txt/10x10')).toBeNull()
    expect(await storage.stat('c2/thumbs/a.txt/20x20')).toBeNull()
    expect(await text(await storage.read('c3/b.txt'))).toBe('c3/b.txt')
    expect(await storage.list('c2/')).toEqual([])
    expect(await storage.list()).toEqual(expect.arrayContaining(['c1/hello_abc.txt', 'c3/b.txt']))
  })
})
