import { deflateSync } from 'node:zlib'
import sharp from 'sharp'
import type { PlinthConfig } from '../config/index.js'
import { createTestApp, type TestApp } from './app.js'
import type { TestDialect } from './databases.js'
import { startS3Server } from './s3-server.js'

export interface FilePart {
  name: string
  bytes: Uint8Array | string
  /** What the client claims; the server decides from the bytes. */
  type?: string
}

/** A plain text file part; its contents name it unless given. */
export function textPart(name: string, bytes = `contents of ${name}`): FilePart {
  return { name, bytes, type: 'text/plain' }
}

/** A multipart body as a browser's FormData makes it, for inject(). */
export async function formBody(
  entries: Array<[string, string | FilePart]>,
): Promise<{ payload: Buffer; headers: Record<string, string> }> {
  const form = new FormData()
  for (const [key, value] of entries) {
    if (typeof value === 'string') form.append(key, value)
    else
      form.append(
        key,
        new Blob([value.bytes], { type: value.type ?? 'application/octet-stream' }),
        value.name,
      )
  }
  const encoded = new Response(form)
  return {
    payload: Buffer.from(await encoded.arrayBuffer()),
    headers: { 'content-type': encoded.headers.get('content-type')! },
  }
}

/** Sends a form as the test superuser (or `auth`) and returns the answer. */
export async function sendForm(
  t: TestApp,
  method: 'POST' | 'PATCH',
  url: string,
  entries: Array<[string, string | FilePart]>,
  auth?: string | null,
) {
  const { payload, headers } = await formBody(entries)
  return t.request({ method, url, payload, headers, auth })
}

const colours = { red: '#e33', green: '#3e3', blue: '#33e' }

export function image(
  format: 'png' | 'jpeg' | 'webp' | 'gif',
  width = 64,
  height = 48,
  colour: keyof typeof colours = 'red',
): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: colours[colour] } })
    .toFormat(format)
    .toBuffer()
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4)
  length.writeUInt32BE(data.length)
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data])
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(body))
  return Buffer.concat([length, body, crc])
}

function crc32(bytes: Buffer): number {
  let crc = 0xffffffff
  for (const byte of bytes) {
    crc ^= byte
    for (let bit = 0; bit < 8; bit++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1))
  }
  return (crc ^ 0xffffffff) >>> 0
}

/** A small valid PNG whose header claims width × height pixels: it would decode to gigabytes. */
export function decompressionBomb(width = 100_000, height = 100_000): Buffer {
  const header = Buffer.alloc(13)
  header.writeUInt32BE(width, 0)
  header.writeUInt32BE(height, 4)
  header.set([8, 0, 0, 0, 0], 8)
  const row = Buffer.alloc(1 + width)
  const rows = deflateSync(Buffer.concat(Array.from({ length: 16 }, () => row)))
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', rows),
    pngChunk('IEND', Buffer.alloc(0)),
  ])
}

/** Every key in the app's file storage, thumbnails included. */
export function storedKeys(t: TestApp): Promise<string[]> {
  return t.app.plinth.files.storage.list()
}

export type StorageKind = 'local' | 's3'

/** The dialects × storages file suites run on: both dialects on disk, and S3 beside SQLite. */
export const storageCases: Array<[TestDialect, StorageKind]> = [
  ['sqlite', 'local'],
  ['postgres', 'local'],
  ['sqlite', 's3'],
]

/** A test app whose files go to `storage`: the data folder, or a bucket of its own on a fresh S3 server. */
export async function createStorageTestApp(
  kind: TestDialect,
  storage: StorageKind,
  files: Partial<PlinthConfig['files']> = {},
): Promise<TestApp> {
  if (storage === 'local') return createTestApp(kind, { files })
  const server = await startS3Server()
  try {
    const t = await createTestApp(kind, { files: { ...files, s3: server.config } })
    return {
      ...t,
      async close() {
        await t.close()
        await server.close()
      },
    }
  } catch (error) {
    await server.close()
    throw error
  }
}
