import type { Readable } from 'node:stream'
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import type { S3Config } from '../../config/index.js'
import { type ByteRange, type FileStorage, missingObject, type StoredObject } from './types.js'

/** S3 takes at most this many keys per DeleteObjects request. */
const DELETE_BATCH = 1000

function isNotFound(error: unknown): boolean {
  const name = (error as { name?: string } | undefined)?.name
  const status = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode
  return name === 'NoSuchKey' || name === 'NotFound' || status === 404
}

/**
 * Files in an S3-compatible bucket. Uploads stream in parts (lib-storage), so a large
 * file never sits whole in memory; a failed upload is aborted, which leaves no object.
 */
export class S3Storage implements FileStorage {
  readonly kind = 's3'
  readonly #client: S3Client

  constructor(private readonly config: S3Config) {
    this.#client = new S3Client({
      region: config.region,
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
      forcePathStyle: config.forcePathStyle,
      credentials: { accessKeyId: config.accessKey, secretAccessKey: config.secret },
    })
  }

  async write(key: string, body: Readable, contentType: string): Promise<void> {
    const upload = new Upload({
      client: this.#client,
      params: { Bucket: this.config.bucket, Key: key, Body: body, ContentType: contentType },
      leavePartsOnError: false,
    })
    // A source that fails mid-way must fail the upload, or a truncated object would be completed.
    const failed = new Promise<never>((_resolve, reject) => {
      body.once('error', (error) => {
        upload.abort().catch(() => {})
        reject(error)
      })
    })
    failed.catch(() => {})
    await Promise.race([upload.done(), failed])
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    try {
      const answer = await this.#client.send(
        new GetObjectCommand({
          Bucket: this.config.bucket,
          Key: key,
          ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
        }),
      )
      return answer.Body as Readable
    } catch (error) {
      if (isNotFound(error)) throw missingObject(key)
      throw error
    }
  }

  async stat(key: string): Promise<StoredObject | null> {
    try {
      const answer = await this.#client.send(new HeadObjectCommand({ Bucket: this.config.bucket, Key: key }))
      return { size: answer.ContentLength ?? 0, modified: answer.LastModified ?? new Date(0) }
    } catch (error) {
      if (isNotFound(error)) return null
      throw error
    }
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (let start = 0; start < keys.length; start += DELETE_BATCH) {
      const batch = keys.slice(start, start + DELETE_BATCH)
      await this.#client.send(
        new DeleteObjectsCommand({
          Bucket: this.config.bucket,
          Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
        }),
      )
    }
  }

  async list(prefix = ''): Promise<string[]> {
    const keys: string[] = []
    let token: string | undefined
    do {
      const page = await this.#client.send(
        new ListObjectsV2Command({ Bucket: this.config.bucket, Prefix: prefix, ContinuationToken: token }),
      )
      for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key)
      token = page.IsTruncated ? page.NextContinuationToken : undefined
    } while (token)
    return keys.sort()
  }

  async deletePrefix(prefix: string): Promise<void> {
    const keys = await this.list(prefix)
    if (keys.length > 0) await this.delete(keys)
  }

  async close(): Promise<void> {
    this.#client.destroy()
  }
}
