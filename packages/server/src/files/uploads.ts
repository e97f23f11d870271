import { Readable } from 'node:stream'
import { type FieldDefinition, UploadedFile } from '../collections/index.js'
import { PlinthError, ValidationError } from '../errors/index.js'
import { detectType, isAllowedType, SNIFF_BYTES, THUMBNAIL_TYPES } from './content-type.js'
import { loadSharp } from './image-library.js'
import { storedName } from './names.js'

/** How much all the files of one request may still add up to; shared by its parts. */
export class UploadBudget {
  constructor(public remaining: number) {}
}

export interface ReceiveOptions {
  field: FieldDefinition
  /** The key `field+` or `field` the part came under: errors name it. */
  key: string
  originalName: string
  maxSize: number
  maxImagePixels: number
  budget: UploadBudget
  /** Stores the bytes under the stored name; called once the type is known and allowed. */
  store(name: string, body: Readable, type: string): Promise<void>
}

function refuse(key: string, code: string, message: string): ValidationError {
  return new ValidationError({ [key]: { code, message } })
}

async function readHead(iterator: AsyncIterator<Buffer>): Promise<{ head: Buffer; done: boolean }> {
  const chunks: Buffer[] = []
  let length = 0
  while (length < SNIFF_BYTES) {
    const next = await iterator.next()
    if (next.done) return { head: Buffer.concat(chunks), done: true }
    chunks.push(next.value)
    length += next.value.length
  }
  return { head: Buffer.concat(chunks), done: false }
}

/**
 * An image whose header claims more pixels than allowed (a decompression bomb: a few
 * kilobytes that decode to gigabytes) is refused from its header alone. A header that
 * does not fit in the first bytes is checked again when a thumbnail is made.
 */
async function checkImageSize(head: Buffer, options: ReceiveOptions): Promise<void> {
  try {
    const sharp = await loadSharp()
    await sharp(head, { limitInputPixels: options.maxImagePixels }).metadata()
  } catch (error) {
    if (/pixel limit/i.test((error as Error).message))
      throw refuse(options.key, 'image_too_large', `must have at most ${options.maxImagePixels} pixels`)
  }
}

/**
 * Receives one file part: its first bytes decide its type (never the name or the
 * client's header), which the field must allow; the rest streams to storage while its
 * size is counted, and going over the field's or the request's limit fails the stream
 * there, so nothing over a limit is ever read whole or kept.
 */
export async function receiveFile(
  source: AsyncIterable<Buffer>,
  options: ReceiveOptions,
): Promise<UploadedFile> {
  const iterator = source[Symbol.asyncIterator]()
  const { head, done } = await readHead(iterator)
  const { key, maxSize, budget } = options
  const detected = await detectType(head, options.originalName)
  if (!isAllowedType(detected.type, options.field.mimeTypes))
    throw refuse(
      key,
      'invalid_file_type',
      `"${detected.type}" is not one of ${options.field.mimeTypes!.join(', ')}`,
    )
  if (THUMBNAIL_TYPES.has(detected.type)) await checkImageSize(head, options)
  let size = 0
  const count = (chunk: Buffer): Buffer => {
    size += chunk.length
    budget.remaining -= chunk.length
    if (size > maxSize) throw refuse(key, 'file_too_large', `must be at most ${maxSize} bytes`)
    if (budget.remaining < 0)
      throw new PlinthError(
        413,
        'body_too_large',
        'The files of this request are larger than the upload limit.',
      )
    return chunk
  }
  async function* bytes(): AsyncGenerator<Buffer> {
    yield count(head)
    if (done) return
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield count(next.value)
  }
  const name = storedName(options.originalName, detected.extension)
  await options.store(name, Readable.from(bytes(), { objectMode: false }), detected.type)
  // Control characters (NUL above all: PostgreSQL text cannot hold it) have no place in a name shown back.
  const originalName = options.originalName.replace(/\p{Cc}/gu, '').slice(0, 255)
  return new UploadedFile(name, originalName, size, detected.type)
}
