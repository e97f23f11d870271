import { createReadStream, existsSync } from 'node:fs'
import type { Kysely } from 'kysely'
import {
  type CollectionDefinition,
  type FieldDefinition,
  fieldKind,
  hasColumn,
  isMultiRelation,
  isRecordId,
  junctionTableName,
  storageKind,
  type UploadedFile,
  VERSION_COLUMN,
} from '../collections/index.js'
import { randomToken } from '../crypto/index.js'
import type { Dialect } from '../db/index.js'
import type { FileService } from '../files/index.js'
import { superuser } from '../identity/index.js'
import { newVersion } from '../records/index.js'
import type { ImportNote } from './import-report.js'
import type { PocketBaseCollection, PocketBaseData, PocketBaseRow } from './pocketbase-data.js'
import { listOf, plainValue, UnusableValue } from './pocketbase-values.js'

/** A collection whose PocketBase records go into a Plinth collection. */
export interface RecordTarget {
  source: PocketBaseCollection
  definition: CollectionDefinition
  /** The Plinth field of each PocketBase field, by PocketBase name. */
  fields: ReadonlyMap<string, FieldDefinition>
  /** Emails already taken in the target (superusers of the Plinth imported into). */
  takenEmails?: ReadonlySet<string>
  /** Emails whose records are left out without a note (PocketBase's installer placeholder). */
  ignoredEmails?: ReadonlySet<string>
}

export interface RecordCounts {
  records: number
  files: number
  /** Records left out because their email was taken already. */
  kept: number
}

/** Bound values per statement, below both databases' limits (SQLite 32,766). */
const MAX_BOUND_VALUES = 30_000

/** Counts what was left out, by subject and reason, with one example each, for the report. */
class Tally {
  readonly #counts = new Map<string, { subject: string; reason: string; count: number; example: string }>()

  add(subject: string, reason: string, example: string): void {
    const key = `${subject}\u0000${reason}`
    const entry = this.#counts.get(key) ?? { subject, reason, count: 0, example }
    entry.count += 1
    this.#counts.set(key, entry)
  }

  notes(): ImportNote[] {
    return [...this.#counts.values()].map(({ subject, reason, count, example }) => ({
      subject,
      problem: `${reason}: ${count} (e.g. ${example})`,
    }))
  }
}

/**
 * Copies the records of PocketBase collections into their Plinth collections with their ids,
 * relations, auth fields (bcrypt hashes kept; Plinth rehashes at sign-in) and files. `prepare`
 * reads everything once, decides which records can be kept and stores their files; `write`
 * then inserts them in the caller's transaction, and `discard` removes the stored files when
 * that transaction did not commit.
 */
export class RecordImport {
  /** What reading the source left out; then what writing it did, counted again on each run. */
  readonly #tally = new Tally()
  #written = new Tally()
  /** Kept record ids per Plinth collection name. */
  readonly #ids = new Map<string, Set<string>>()
  /** Stored files by `<collection>/<record id>/<PocketBase name>`. */
  readonly #uploads = new Map<string, UploadedFile>()
  readonly #stored: Array<{ collection: CollectionDefinition; upload: UploadedFile }> = []

  constructor(
    private readonly data: PocketBaseData,
    private readonly dialect: Dialect,
    private readonly files: FileService | null,
  ) {}

  notes(): ImportNote[] {
    return [...this.#tally.notes(), ...this.#written.notes()]
  }

  /** Counts per target without writing (a dry run), or decides and copies files before `write`. */
  async prepare(targets: readonly RecordTarget[]): Promise<Map<string, RecordCounts>> {
    const counts = new Map<string, RecordCounts>()
    for (const target of targets) {
      const kept = new Set<string>()
      const emails = new Set(target.takenEmails)
      const count: RecordCounts = { records: 0, files: 0, kept: 0 }
      for await (const rows of this.data.records(target.source))
        for (const row of rows) {
          const id = String(row.id ?? '')
          if (!isRecordId(id) || id !== id.toLowerCase()) {
            this.#tally.add(
              target.source.name,
              'records with an id Plinth cannot keep were left out',
              JSON.stringify(id),
            )
            continue
          }
          if (target.definition.type === 'auth') {
            const email = String(plainValue({ id: '', name: 'email', type: 'email' }, row.email))
            if (target.ignoredEmails?.has(email)) continue
            if (email !== '' && emails.has(email)) {
              if (target.takenEmails?.has(email)) count.kept += 1
              else
                this.#tally.add(
                  target.source.name,
                  'records whose email differs from another only in case were left out',
                  email,
                )
              continue
            }
            emails.add(email)
          }
          kept.add(id)
          count.records += 1
          count.files += await this.storeFiles(target, row)
        }
      this.#ids.set(target.definition.name, kept)
      counts.set(target.definition.name, count)
    }
    return counts
  }

  /** Copies the files a record holds, unless this is a dry run; returns how many it holds. */
  private async storeFiles(target: RecordTarget, row: PocketBaseRow): Promise<number> {
    let count = 0
    for (const [name, field] of target.fields) {
      if (field.type !== 'file') continue
      for (const file of listOrOne(row[name])) {
        const path = this.data.filePath(target.source, String(row.id), file)
        const subject = `${target.source.name}.${name}`
        if (path === null || !existsSync(path)) {
          this.#tally.add(subject, 'files missing from storage/ were left out', file)
          continue
        }
        count += 1
        if (!this.files) continue
        try {
          const upload = await this.files.adopt(target.definition, field, file, createReadStream(path))
          this.#stored.push({ collection: target.definition, upload })
          this.#uploads.set(`${target.definition.name}/${row.id}/${file}`, upload)
        } catch (error) {
          count -= 1
          this.#tally.add(subject, `files Plinth refused were left out (${(error as Error).message})`, file)
        }
      }
    }
    return count
  }

  /**
   * Inserts the kept records. Relations are written once every record exists where a target
   * comes later or is the collection itself, so cycles and self-references work with foreign
   * keys checked at once; ids of records that were not imported are dropped and counted.
   * Without a transaction (a dry run) it only counts.
   */
  async write(trx: Kysely<any> | null, targets: readonly RecordTarget[]): Promise<void> {
    // A transaction the database runs again (after a deadlock) counts afresh.
    this.#written = new Tally()
    const inserted = new Set<string>()
    const later: Array<{ target: RecordTarget; id: string; values: Record<string, unknown> }> = []
    for (const target of targets) {
      const kept = this.#ids.get(target.definition.name)!
      for await (const batch of this.data.records(target.source)) {
        const rows: Record<string, unknown>[] = []
        for (const source of batch) {
          const id = String(source.id)
          if (!kept.has(id)) continue
          const { row, deferred, record, uploads } = this.rowOf(target, source, inserted)
          rows.push(row)
          if (Object.keys(deferred).length > 0) later.push({ target, id, values: deferred })
          if (trx && uploads.size > 0)
            await this.files!.onRecordChange(trx, {
              action: 'create',
              collection: target.definition,
              record,
              previous: null,
              written: [],
              caller: superuser,
              uploads,
            })
        }
        if (trx) await this.insert(trx, target.definition.name, rows)
      }
      inserted.add(target.definition.name)
    }
    if (trx)
      for (const { target, id, values } of later)
        await trx.updateTable(target.definition.name).set(values).where('id', '=', id).execute()
    for (const target of targets) await this.writeJunctions(trx, target)
  }

  private rowOf(target: RecordTarget, source: PocketBaseRow, inserted: ReadonlySet<string>) {
    const { definition } = target
    const now = new Date().toISOString()
    const row: Record<string, unknown> = { id: String(source.id), [VERSION_COLUMN]: newVersion() }
    const deferred: Record<string, unknown> = {}
    const record: Record<string, unknown> = { id: row.id }
    const uploads = new Map<string, UploadedFile>()
    for (const field of definition.fields) {
      if (!hasColumn(field) || field.name === 'id') continue
      const pocketBaseName = [...target.fields].find(([, f]) => f.id === field.id)?.[0]
      const raw = pocketBaseName === undefined ? undefined : source[pocketBaseName]
      const subject = `${target.source.name}.${pocketBaseName ?? field.name}`
      let value: unknown
      try {
        value = this.valueOf(target, field, raw, String(source.id), subject, uploads)
      } catch (error) {
        if (!(error instanceof UnusableValue)) throw error
        this.#written.add(subject, error.message, JSON.stringify(raw))
        value = fieldKind(field.type).emptyValue(field)
      }
      if (field.name === 'tokenKey') value = randomToken()
      if (
        (field.name === 'created' || field.name === 'updated') &&
        field.type === 'autodate' &&
        value == null
      )
        value = now
      record[field.name] = value
      const stored = this.dialect.encode(storageKind(field), value)
      if (
        field.type === 'relation' &&
        value !== null &&
        (!inserted.has(field.collection!) || field.collection === definition.name)
      ) {
        row[field.name] = null
        deferred[field.name] = stored
      } else row[field.name] = stored
    }
    return { row, deferred, record, uploads }
  }

  private valueOf(
    target: RecordTarget,
    field: FieldDefinition,
    raw: unknown,
    recordId: string,
    subject: string,
    uploads: Map<string, UploadedFile>,
  ): unknown {
    if (field.type === 'password') return raw === null || raw === undefined ? '' : String(raw)
    if (field.type === 'relation') {
      const ids = this.existing(field, listOrOne(raw), subject)
      return ids[0] ?? null
    }
    if (field.type === 'file') {
      const names = listOrOne(raw).flatMap((name) => {
        const upload = this.#uploads.get(`${target.definition.name}/${recordId}/${name}`)
        if (upload) uploads.set(upload.name, upload)
        return upload ? [upload.name] : []
      })
      return (field.maxSelect ?? 1) > 1 ? names : (names[0] ?? '')
    }
    return plainValue(field, raw)
  }

  /** The ids of records that were imported; the others are counted as dropped. */
  private existing(field: FieldDefinition, ids: string[], subject: string): string[] {
    const kept = this.#ids.get(field.collection!)
    return ids.filter((id) => {
      if (kept?.has(id)) return true
      this.#written.add(subject, `ids of ${field.collection} records that do not exist were dropped`, id)
      return false
    })
  }

  private async writeJunctions(trx: Kysely<any> | null, target: RecordTarget): Promise<void> {
    const relations = [...target.fields].filter(([, field]) => isMultiRelation(field))
    if (relations.length === 0) return
    const kept = this.#ids.get(target.definition.name)!
    for await (const batch of this.data.records(target.source))
      for (const [name, field] of relations) {
        const rows = batch
          .filter((source) => kept.has(String(source.id)))
          .flatMap((source) =>
            this.existing(field, listOrOne(source[name]), `${target.source.name}.${name}`).map(
              (id, position) => ({
                source: String(source.id),
                target: id,
                position,
              }),
            ),
          )
        if (trx) await this.insert(trx, junctionTableName(field), rows)
      }
  }

  private async insert(trx: Kysely<any>, table: string, rows: Record<string, unknown>[]): Promise<void> {
    if (rows.length === 0) return
    const perStatement = Math.max(1, Math.floor(MAX_BOUND_VALUES / Object.keys(rows[0]!).length))
    try {
      for (let start = 0; start < rows.length; start += perStatement)
        await trx
          .insertInto(table)
          .values(rows.slice(start, start + perStatement))
          .execute()
    } catch (error) {
      const violation = this.dialect.constraintViolation(error)
      if (violation?.kind !== 'unique') throw error
      const fields = violation.columns.length > 0 ? violation.columns.join(', ') : 'a unique field'
      throw new Error(`Two records of ${table} hold the same ${fields}, which a unique index refuses.`)
    }
  }

  /** Removes the files stored for records that were not committed. */
  async discard(): Promise<void> {
    const byCollection = new Map<string, { collection: CollectionDefinition; uploads: UploadedFile[] }>()
    for (const { collection, upload } of this.#stored) {
      const entry = byCollection.get(collection.id) ?? { collection, uploads: [] }
      entry.uploads.push(upload)
      byCollection.set(collection.id, entry)
    }
    for (const { collection, uploads } of byCollection.values()) await this.files?.settle(collection, uploads)
  }
}

/** A single value or PocketBase's JSON list of them. */
function listOrOne(raw: unknown): string[] {
  if (typeof raw === 'string' && !raw.startsWith('[')) return raw === '' ? [] : [raw]
  try {
    return listOf(raw)
  } catch {
    return []
  }
}
