import { Readable } from 'node:stream'
import { LRUCache } from 'lru-cache'
import type { FormatEnum, ResizeOptions } from 'sharp'
import { type FieldDefinition, THUMB_SIZE } from '../collections/index.js'
import { PlinthError } from '../errors/index.js'
import { invalidQuery } from '../records/index.js'
import { THUMBNAIL_TYPES } from './content-type.js'
import { loadSharp } from './image-library.js'
import type { FileStorage, StoredObject } from './storage/index.js'

/** Every image field offers this size, for lists and pickers, besides those it lists. */
export const DEFAULT_THUMB = '100x100'

/**
 * The thumbnail size to serve, or null for the original file. Only sizes the field lists
 * (and the default) are made, so no client can make the server resize at will; a size it
 * does not list, or a file that is not a raster image, is answered with the original, as
 * PocketBase does, so clients that ask for a thumbnail of every file keep working. A value
 * that is not a size at all is a mistake worth a 400.
 */
export function thumbSizeFor(field: FieldDefinition, size: string, type: string): string | null {
  const match = THUMB_SIZE.exec(size)
  if (!match || (match[1] === '0' && match[2] === '0'))
    throw invalidQuery('thumb', 'must be a size such as 100x100, 200x0, 0x300 or 640x480f')
  const offered = size === DEFAULT_THUMB || (field.thumbs ?? []).includes(size)
  return offered && THUMBNAIL_TYPES.has(type) ? size : null
}

function resizer(size: string): ResizeOptions {
  const [, width, height, mode] = THUMB_SIZE.exec(size)!
  const w = Number(width) || undefined
  const h = Number(height) || undefined
  // The fast shrink-on-load of JPEG and WebP rounds the scaled image, so a size given on one
  // side came out a pixel off on the other (0x30 of a 400×300 JPEG was 41×30).
  const exact = { fastShrinkOnLoad: false }
  if (!w || !h || mode === 'f')
    return { ...exact, width: w, height: h, fit: 'inside', withoutEnlargement: true }
  return {
    ...exact,
    width: w,
    height: h,
    fit: 'cover',
    position: mode === 't' ? 'top' : mode === 'b' ? 'bottom' : 'centre',
  }
}

/**
 * Makes thumbnails once and keeps them in storage beside the original. Requests for a
 * thumbnail being made wait for that one making, so a burst of first views decodes the
 * image once.
 */
export class Thumbnails {
  readonly #making = new Map<string, Promise<StoredObject>>()
  /** Thumbnails known to be stored: a view served from cache asks the storage nothing but the bytes. */
  readonly #stored = new LRUCache<string, StoredObject>({ max: 10_000, ttl: 60_000 })

  constructor(
    private readonly storage: FileStorage,
    private readonly maxPixels: number,
  ) {}

  /** The stored thumbnail under `key`, made from the original under `source` when missing. */
  async ensure(source: string, key: string, size: string, type: string): Promise<StoredObject> {
    const known = this.#stored.get(key)
    if (known) return known
    const found = await this.storage.stat(key)
    if (found) {
      this.#stored.set(key, found)
      return found
    }
    let making = this.#making.get(key)
    if (!making) {
      making = this.make(source, key, size, type)
        .then((made) => {
          this.#stored.set(key, made)
          return made
        })
        .finally(() => this.#making.delete(key))
      this.#making.set(key, making)
    }
    return making
  }

  /** Drops what is known of a thumbnail the storage turned out not to have. */
  forget(key: string): void {
    this.#stored.delete(key)
  }

  private async make(source: string, key: string, size: string, type: string): Promise<StoredObject> {
    const format = type.slice('image/'.length) as keyof FormatEnum
    // limitInputPixels refuses a decompression bomb from its header, before decoding it.
    const sharp = await loadSharp()
    const transform = sharp({ limitInputPixels: this.maxPixels, failOn: 'error', animated: false })
      .rotate()
      .resize(resizer(size))
      .toFormat(format)
    let bytes: Buffer
    try {
      const original = await this.storage.read(source)
      original.on('error', (error) => transform.destroy(error))
      bytes = await original.pipe(transform).toBuffer()
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw error
      throw new PlinthError(
        422,
        'image_unprocessable',
        `No thumbnail can be made of this image: ${(error as Error).message}.`,
      )
    }
    await this.storage.write(key, Readable.from([bytes]), type)
    return { size: bytes.length, modified: new Date() }
  }
}
