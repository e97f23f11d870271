import type { Readable } from 'node:stream'

/** What a stored object is, without its bytes. */
export interface StoredObject {
  size: number
  modified: Date
}

/** Bytes `start` to `end`, both included (as HTTP ranges count them). */
export interface ByteRange {
  start: number
  end: number
}

/**
 * Where file bytes live: a folder on disk or an S3-compatible bucket. Keys are made by
 * Plinth only (`<collection id>/<stored name>` and thumbnails below `<collection id>/thumbs/`),
 * never taken from a request, so an implementation may trust them.
 */
export interface FileStorage {
  /** `local` or `s3`, for logs and the health answer. */
  readonly kind: string
  /**
   * Stores `body` under `key`, streaming: memory stays flat whatever the size. When the
   * stream fails (an upload over its limit, a client gone) nothing is left under `key`.
   */
  write(key: string, body: Readable, contentType: string): Promise<void>
  /** The object's bytes (or one range of them); rejects with a code of `ENOENT` when absent. */
  read(key: string, range?: ByteRange): Promise<Readable>
  /** Size and time of an object, or null when there is none. */
  stat(key: string): Promise<StoredObject | null>
  /** Removes objects; keys that do not exist are not an error. */
  delete(keys: readonly string[]): Promise<void>
  /** Every key starting with `prefix`, sorted: for tools that compare storage with the database. */
  list(prefix?: string): Promise<string[]>
  /** Removes every object whose key starts with `prefix` (a folder: it ends with `/`). */
  deletePrefix(prefix: string): Promise<void>
  close(): Promise<void>
}

/** The error a read of a missing object rejects with, whatever the storage. */
export function missingObject(key: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(`No stored object ${key}`)
  error.code = 'ENOENT'
  return error
}

export function isMissingObject(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT'
}
