import { existsSync } from 'node:fs'
import { copyFile, link, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { Transform } from 'node:stream'
import { type PlinthConfig, plinthVersion } from '../config/index.js'
import { secretFile } from '../crypto/index.js'
import { type Dialect, openDatabase, SYSTEM_MIGRATIONS_TABLE, sqliteFile } from '../db/index.js'
import { FILES_TABLE, objectKey } from '../files/index.js'
import { describeEntries, packArchive } from './archive.js'
import { archiveName, type BackupDestination, pruneArchives } from './destinations.js'
import { dumpDatabase, readTableFile, tableEntry } from './logical-dump.js'
import { BACKUP_FORMAT, MANIFEST_ENTRY, type Manifest, type ManifestFiles } from './manifest.js'
import { readBatches } from './rows.js'
import { snapshotSqlite } from './sqlite-snapshot.js'

/** Where the parts of an archive sit in it. */
export const DATABASE_FOLDER = 'database'
export const STORAGE_FOLDER = 'storage'
export const SECRET_ENTRY = 'secret'
const KEY_BATCH = 1000

export interface BackupResult {
  /** The archive's path, or its s3:// URL. */
  location: string
  manifest: Manifest
  /** Bytes of the archive. */
  size: number
  /** Older archives removed to keep the newest `keep`. */
  pruned: string[]
}

/**
 * Makes one archive of the whole instance while it runs: the database (SQLite: a consistent copy
 * of its file; PostgreSQL: a logical copy read in one snapshot), the files of records when they
 * are on local disk, the instance secret's key file, and a manifest with a checksum of each.
 * `database` is the open PostgreSQL database; SQLite is read through a connection of its own.
 *
 * @example
 * const destination = await openDestination(config, null)
 * const { location } = await createBackup(config, core.dialect, destination, { keep: 7 })
 */
export async function createBackup(
  config: PlinthConfig,
  database: Dialect | null,
  destination: BackupDestination,
  options: { keep?: number } = {},
): Promise<BackupResult> {
  const parent = destination.stagingParent ?? tmpdir()
  await mkdir(parent, { recursive: true })
  const staging = await mkdtemp(join(parent, '.backup-'))
  try {
    const created = new Date().toISOString()
    const stager = new FileStager(config.files.localDir, join(staging, STORAGE_FOLDER))
    const isLocal = config.files.s3 === null
    let copied: { systemMigrations: string[]; tables?: Record<string, number> }
    if (config.databaseUrl) {
      if (!database) throw new Error('A backup of PostgreSQL needs the open database.')
      copied = await dumpDatabase(database, staging)
      if (isLocal)
        await readTableFile(join(staging, tableEntry(FILES_TABLE)), KEY_BATCH, async (_header, rows) => {
          for (const row of rows)
            await stager.add(objectKey({ id: String(row.collection_id) }, String(row.name)))
        })
    } else copied = await copySqlite(config, join(staging, DATABASE_FOLDER), isLocal ? stager : null)
    const files: ManifestFiles = config.files.s3
      ? { storage: 's3', included: false, bucket: config.files.s3.bucket }
      : { storage: 'local', included: true, count: stager.count, missing: stager.missing }
    const secret =
      config.secret === null && existsSync(secretFile(config.dataDir)) ? 'included' : 'environment'
    if (secret === 'included') await copyFile(secretFile(config.dataDir), join(staging, SECRET_ENTRY))
    const entries = await describeEntries(staging)
    const manifest: Manifest = {
      format: BACKUP_FORMAT,
      plinth: plinthVersion(),
      dialect: config.databaseUrl ? 'postgres' : 'sqlite',
      created,
      systemMigrations: copied.systemMigrations,
      files,
      secret,
      entries,
      ...(copied.tables ? { tables: copied.tables } : {}),
    }
    await writeFile(join(staging, MANIFEST_ENTRY), `${JSON.stringify(manifest, null, 2)}\n`)
    let size = 0
    const counted = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        size += chunk.length
        done(null, chunk)
      },
    })
    const location = await destination.write(
      archiveName(created),
      packArchive(staging, Object.keys(entries)).pipe(counted),
    )
    const pruned = options.keep ? await pruneArchives(destination, options.keep) : []
    return { location, manifest, size, pruned }
  } finally {
    await rm(staging, { recursive: true, force: true })
  }
}

/**
 * Copies the SQLite file while the server may be writing, then reads what else the archive
 * needs (the system steps applied, the files of records) from that copy, so all of it agrees.
 */
async function copySqlite(
  config: PlinthConfig,
  folder: string,
  stager: FileStager | null,
): Promise<{ systemMigrations: string[] }> {
  const source = sqliteFile(config.dataDir)
  if (!existsSync(source)) throw new Error(`There is no database in ${config.dataDir}: nothing to back up.`)
  await mkdir(folder, { recursive: true })
  await snapshotSqlite(source, sqliteFile(folder))
  const copy = await openDatabase({ ...config, databaseUrl: null, dataDir: folder })
  try {
    const migrations = await copy.db
      .selectFrom(SYSTEM_MIGRATIONS_TABLE)
      .select('name')
      .orderBy('name')
      .execute()
    if (stager) {
      const plan = {
        name: FILES_TABLE,
        columns: [
          { name: 'collection_id', kind: null },
          { name: 'name', kind: null },
        ],
        key: ['collection_id', 'name'],
        serial: null,
        deferred: [],
      }
      for await (const batch of readBatches(copy, copy.db, plan, KEY_BATCH))
        for (const row of batch.rows)
          await stager.add(objectKey({ id: String(row.collection_id) }, String(row.name)))
    }
    return { systemMigrations: migrations.map((row) => row.name as string) }
  } finally {
    await copy.close()
  }
}

/**
 * Puts the files of records into the archive's folder: hard links where the disk allows (no
 * bytes copied, and a file deleted meanwhile stays readable), copies elsewhere. A file the
 * database names but storage lacks is listed, not fatal: the rest of the backup still counts.
 */
class FileStager {
  count = 0
  readonly missing: string[] = []

  constructor(
    private readonly from: string,
    private readonly into: string,
  ) {}

  async add(key: string): Promise<void> {
    const source = join(this.from, ...key.split('/'))
    const target = join(this.into, ...key.split('/'))
    await mkdir(dirname(target), { recursive: true })
    try {
      await link(source, target)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'ENOENT') {
        this.missing.push(key)
        return
      }
      await copyFile(source, target)
    }
    this.count++
  }
}
