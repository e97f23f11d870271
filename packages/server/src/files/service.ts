import { createReadStream } from 'node:fs'
import type { FastifyRequest } from 'fastify'
import type { Kysely } from 'kysely'
import { LRUCache } from 'lru-cache'
import type { Logger } from 'pino'
import {
  type CollectionDefinition,
  DEFAULT_MAX_FILE_SIZE,
  type FieldDefinition,
  fileNames,
  isMultiValued,
  type UploadedFile,
} from '../collections/index.js'
import type { FilesConfig } from '../config/index.js'
import type { JobQueue } from '../jobs/index.js'
import type { RecordChange } from '../records/index.js'
import { type BatchForm, readBatchForm, type SpooledFile } from './batch-form.js'
import { appendFormValue, readRecordForm } from './form.js'
import { FILES_TABLE } from './migration.js'
import type { FileStorage } from './storage/index.js'
import { receiveFile, UploadBudget } from './uploads.js'

export const CLEANUP_JOB = 'plinth.files.cleanup'
/**
 * Every stored upload is given a cleanup job before its bytes are written, run this much
 * later: if the process dies between storing a file and committing its record, the job
 * finds no record holding the file and removes it. Long enough for the slowest upload.
 */
const SAFETY_NET_DELAY_MS = 24 * 60 * 60 * 1000

interface CleanupPayload {
  collection: string
  names?: string[]
  /** Everything the collection stored: its files and their thumbnails. */
  all?: boolean
}

/** The row kept for each file a record holds. */
export interface FileRow {
  collection_id: string
  name: string
  record_id: string
  field_id: string
  original_name: string
  type: string
  size: number | string
  created: string
}

export function objectKey(collection: Pick<CollectionDefinition, 'id'>, name: string): string {
  return `${collection.id}/${name}`
}

export function thumbsPrefix(collection: Pick<CollectionDefinition, 'id'>, name: string): string {
  return `${collection.id}/thumbs/${name}/`
}

/**
 * Files of records: receiving uploads, keeping `_files` in step with the records' file
 * fields inside their transactions, and removing what no record holds any more through
 * the job queue, so no failed write, replaced file or deleted record leaves bytes behind.
 */
export class FileService {
  /**
   * Rows of files served lately. A row never changes, it only goes; one that went on another
   * node is served at most until its bytes are removed right after that commit (then a 404),
   * and for no longer than the TTL in any case.
   */
  readonly #rows = new LRUCache<string, FileRow>({ max: 10_000, ttl: 60_000 })

  constructor(
    readonly storage: FileStorage,
    private readonly db: Kysely<any>,
    private readonly jobs: JobQueue<any>,
    readonly config: FilesConfig,
    private readonly log: Logger,
    /** Largest form value, the JSON body limit. */
    private readonly maxValueBytes: number,
  ) {
    jobs.register(CLEANUP_JOB, (payload: CleanupPayload) => this.cleanup(payload))
  }

  /**
   * Reads a multipart record body, storing its files as they stream in. `uploads` gets
   * each stored file, also when reading fails part-way: pass it to `settle` afterwards.
   */
  readForm(
    request: FastifyRequest,
    collection: CollectionDefinition,
    uploads: UploadedFile[],
  ): Promise<Record<string, unknown>> {
    const budget = new UploadBudget(this.config.maxUploadBytes)
    return readRecordForm(
      request,
      collection,
      { maxParts: this.config.maxParts, maxValueBytes: this.maxValueBytes },
      (field, key, part) => this.receive(collection, field, key, part.filename, part.file, budget),
      uploads,
    )
  }

  /**
   * Reads a batch sent as multipart/form-data; its files wait in a temporary folder until
   * `storeBatchFile` stores each for the collection its request writes. Dispose of the form.
   */
  readBatchForm(request: FastifyRequest): Promise<BatchForm> {
    return readBatchForm(request, {
      maxParts: this.config.maxParts,
      maxValueBytes: this.maxValueBytes,
      maxUploadBytes: this.config.maxUploadBytes,
    })
  }

  /**
   * Checks and stores a file of a batch form as a single write's upload would be, and adds
   * it to the body of its request, as a form's file joins the record's body.
   */
  async attachBatchFile(
    target: { collection: CollectionDefinition; field: FieldDefinition; body: Record<string, unknown> },
    file: SpooledFile,
    budget: UploadBudget,
  ): Promise<UploadedFile> {
    const { collection, field, body } = target
    const source = createReadStream(file.path)
    const upload = await this.receive(collection, field, file.key, file.filename, source, budget)
    appendFormValue(body, file.key, upload, isMultiValued(field) || file.key.endsWith('+'))
    return upload
  }

  /**
   * Stores a file that a record brings from elsewhere (an import), as an upload of the field
   * is stored: the type is decided from its bytes and it gets a stored name. The field's size
   * and type limits were the source's to check, so they are not checked again.
   */
  adopt(
    collection: CollectionDefinition,
    field: FieldDefinition,
    originalName: string,
    source: AsyncIterable<Buffer>,
  ): Promise<UploadedFile> {
    const { mimeTypes: _anyType, ...unlimited } = field
    return this.receive(
      collection,
      unlimited,
      field.name,
      originalName,
      source,
      new UploadBudget(Number.POSITIVE_INFINITY),
      Number.POSITIVE_INFINITY,
    )
  }

  /** One request's share of the upload limit, for the files of a batch form. */
  uploadBudget(): UploadBudget {
    return new UploadBudget(this.config.maxUploadBytes)
  }

  private receive(
    collection: CollectionDefinition,
    field: FieldDefinition,
    key: string,
    filename: string,
    source: AsyncIterable<Buffer>,
    budget: UploadBudget,
    maxSize = field.maxSize ?? DEFAULT_MAX_FILE_SIZE,
  ): Promise<UploadedFile> {
    return receiveFile(source, {
      field,
      key,
      originalName: filename || 'file',
      maxSize,
      maxImagePixels: this.config.maxImagePixels,
      budget,
      store: async (name, body, type) => {
        await this.jobs.enqueue(
          CLEANUP_JOB,
          { collection: collection.id, names: [name] } satisfies CleanupPayload,
          { delay: SAFETY_NET_DELAY_MS },
        )
        await this.storage.write(objectKey(collection, name), body, type)
      },
    })
  }

  /** After the write (committed or not): removes the request's uploads that no record took. */
  async settle(collection: CollectionDefinition, uploads: readonly UploadedFile[]): Promise<void> {
    if (uploads.length === 0) return
    try {
      await this.cleanup({ collection: collection.id, names: uploads.map((upload) => upload.name) })
    } catch (error) {
      // The cleanup job enqueued with each upload removes them later.
      this.log.warn({ err: error, collection: collection.name }, 'removing unused uploads failed')
    }
  }

  /** Keeps `_files` in step with a record's file fields, in the record's transaction. */
  async onRecordChange(trx: Kysely<any>, change: RecordChange): Promise<void> {
    const fields = change.collection.fields.filter((field) => field.type === 'file')
    if (fields.length === 0) return
    const removed: string[] = []
    const added: { field: FieldDefinition; upload: UploadedFile }[] = []
    for (const field of fields) {
      const before = fileNames(change.previous?.[field.name])
      const after = change.action === 'delete' ? [] : fileNames(change.record[field.name])
      for (const name of before) if (!after.includes(name)) removed.push(name)
      for (const name of after) {
        const upload = before.includes(name) ? undefined : change.uploads?.get(name)
        if (upload) added.push({ field, upload })
      }
    }
    const collectionId = change.collection.id
    const recordId = String(change.record.id)
    if (added.length > 0) {
      const created = new Date().toISOString()
      await trx
        .insertInto(FILES_TABLE)
        .values(
          added.map(({ field, upload }) => ({
            collection_id: collectionId,
            name: upload.name,
            record_id: recordId,
            field_id: field.id,
            original_name: upload.originalName,
            type: upload.type,
            size: upload.size,
            created,
          })),
        )
        .execute()
    }
    if (removed.length > 0) {
      for (const name of removed) this.#rows.delete(objectKey(change.collection, name))
      await trx
        .deleteFrom(FILES_TABLE)
        .where('collection_id', '=', collectionId)
        .where('name', 'in', removed)
        .execute()
      await this.jobs.enqueue(CLEANUP_JOB, { collection: collectionId, names: removed }, {}, trx)
    }
  }

  /** In the transaction that drops a collection: its rows go now, its bytes once that commits. */
  async onCollectionDrop(trx: Kysely<any>, collection: CollectionDefinition): Promise<void> {
    this.#rows.clear()
    await trx.deleteFrom(FILES_TABLE).where('collection_id', '=', collection.id).execute()
    await this.jobs.enqueue(CLEANUP_JOB, { collection: collection.id, all: true }, {}, trx)
  }

  /** In the transaction that removes file fields: their files' rows go now, their bytes once it commits. */
  async onFieldsDrop(
    trx: Kysely<any>,
    collection: CollectionDefinition,
    fields: FieldDefinition[],
  ): Promise<void> {
    const ids = fields.filter((field) => field.type === 'file').map((field) => field.id)
    if (ids.length === 0) return
    const rows = await trx
      .selectFrom(FILES_TABLE)
      .select('name')
      .where('collection_id', '=', collection.id)
      .where('field_id', 'in', ids)
      .execute()
    if (rows.length === 0) return
    const names = rows.map((row) => row.name as string)
    for (const name of names) this.#rows.delete(objectKey(collection, name))
    await trx
      .deleteFrom(FILES_TABLE)
      .where('collection_id', '=', collection.id)
      .where('field_id', 'in', ids)
      .execute()
    await this.jobs.enqueue(
      CLEANUP_JOB,
      { collection: collection.id, names } satisfies CleanupPayload,
      {},
      trx,
    )
  }

  /** The row of a file of a record, or undefined when the record holds no such file. */
  async find(collection: CollectionDefinition, recordId: string, name: string): Promise<FileRow | undefined> {
    const key = objectKey(collection, name)
    let row = this.#rows.get(key)
    if (!row) {
      row = (await this.db
        .selectFrom(FILES_TABLE)
        .selectAll()
        .where('collection_id', '=', collection.id)
        .where('name', '=', name)
        .executeTakeFirst()) as FileRow | undefined
      if (row) this.#rows.set(key, row)
    }
    return row?.record_id === recordId ? row : undefined
  }

  /** Removes the named files (and their thumbnails) that no record holds; idempotent. */
  private async cleanup(payload: CleanupPayload): Promise<void> {
    const collection = { id: payload.collection }
    if (payload.all) {
      // A collection imported again under the same id would hold rows: keep its files then.
      const left = await this.db
        .selectFrom(FILES_TABLE)
        .select('name')
        .where('collection_id', '=', collection.id)
        .limit(1)
        .executeTakeFirst()
      if (!left) await this.storage.deletePrefix(`${collection.id}/`)
      return
    }
    const names = payload.names ?? []
    if (names.length === 0) return
    const held = await this.db
      .selectFrom(FILES_TABLE)
      .select('name')
      .where('collection_id', '=', collection.id)
      .where('name', 'in', names)
      .execute()
    const kept = new Set(held.map((row) => row.name as string))
    const orphans = names.filter((name) => !kept.has(name))
    if (orphans.length === 0) return
    await this.storage.delete(orphans.map((name) => objectKey(collection, name)))
    for (const name of orphans) await this.storage.deletePrefix(thumbsPrefix(collection, name))
  }
}
