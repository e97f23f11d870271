import { createReadStream, existsSync, statSync } from 'node:fs'
import { chmod, mkdir, mkdtemp, readdir, readFile, rename, rm, rmdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { PlinthConfig } from '../config/index.js'
import { secretFile } from '../crypto/index.js'
import { openDatabase, type SystemMigration, sqliteFile } from '../db/index.js'
import { openFileStorage } from '../files/index.js'
import { unpackArchive, verifyEntries } from './archive.js'
import { DATABASE_FOLDER, SECRET_ENTRY, STORAGE_FOLDER } from './backup.js'
import { loadLogicalCopy } from './logical-load.js'
import { MANIFEST_ENTRY, type Manifest, parseManifest } from './manifest.js'

export interface RestoreResult {
  manifest: Manifest
  /** Where the database went: the data folder, or PostgreSQL. */
  into: string
  /** Things the person restoring must know: the secret, files left in a bucket. */
  notes: string[]
}

/** A place in the data folder and what takes it: the staged file or folder, or nothing (it goes). */
interface Replacement {
  path: string
  staged: string | null
}

/**
 * Restores an archive made by `createBackup` into the configured database and data folder,
 * checking its manifest and every checksum before anything is touched. The target must be
 * empty unless `force`; the replacement is atomic: a data folder's parts are staged beside
 * them and swapped in by renames (put back if one fails), a PostgreSQL database is loaded in
 * one transaction.
 */
export async function restoreBackup(
  file: string,
  config: PlinthConfig,
  systemMigrations: SystemMigration[],
  options: { force?: boolean } = {},
): Promise<RestoreResult> {
  if (!existsSync(file) || !statSync(file).isFile()) throw new Error(`There is no backup file ${file}.`)
  const madeDataDir = !existsSync(config.dataDir)
  await mkdir(config.dataDir, { recursive: true })
  const staging = await mkdtemp(join(config.dataDir, '.restore-'))
  let isDone = false
  try {
    const unpacked = join(staging, 'archive')
    const manifest = await unpackChecked(file, unpacked, systemMigrations)
    const isLocalStorage = config.files.s3 === null
    const restoresFiles = manifest.files.included && isLocalStorage
    const replacements: Replacement[] = []
    if (config.databaseUrl) {
      if (manifest.dialect === 'sqlite')
        throw new Error(
          'The backup is of a SQLite database and restores to SQLite only (leave out --database-url). To move it to PostgreSQL, restore it into a data folder, then run "plinth migrate-data".',
        )
      if (restoresFiles && !options.force) await refuseStoredFiles(config)
      const dialect = await openDatabase(config)
      try {
        await loadLogicalCopy(dialect, unpacked, manifest, systemMigrations, {
          replace: options.force === true,
          describeTarget: 'The PostgreSQL database',
        })
      } finally {
        await dialect.close()
      }
    } else {
      if (!options.force) await refuseNonEmptyFolder(config, restoresFiles)
      const database = sqliteFile(config.dataDir)
      let staged = sqliteFile(join(unpacked, DATABASE_FOLDER))
      if (manifest.dialect === 'postgres') {
        const built = join(staging, 'built')
        staged = sqliteFile(built)
        const dialect = await openDatabase({ ...config, dataDir: built })
        try {
          await loadLogicalCopy(dialect, unpacked, manifest, systemMigrations, {
            replace: false,
            describeTarget: 'The new database',
          })
        } finally {
          await dialect.close()
        }
      }
      // A write-ahead log left beside the old file would be replayed into the new one.
      replacements.push(
        { path: database, staged },
        { path: `${database}-wal`, staged: null },
        { path: `${database}-shm`, staged: null },
      )
    }
    if (restoresFiles)
      replacements.push({ path: config.files.localDir, staged: join(unpacked, STORAGE_FOLDER) })
    if (manifest.secret === 'included') {
      await chmod(join(unpacked, SECRET_ENTRY), 0o600)
      replacements.push({ path: secretFile(config.dataDir), staged: join(unpacked, SECRET_ENTRY) })
    }
    await swapIn(replacements, join(staging, 'replaced'))
    if (manifest.files.included && !isLocalStorage) await uploadFiles(config, join(unpacked, STORAGE_FOLDER))
    isDone = true
    return {
      manifest,
      into: config.databaseUrl ? 'the PostgreSQL database' : config.dataDir,
      notes: notesOn(manifest, config),
    }
  } finally {
    await rm(staging, { recursive: true, force: true })
    if (!isDone && madeDataDir) await rmdir(config.dataDir).catch(() => {})
  }
}

/**
 * Unpacks an archive into `into` (a new folder) and checks it as a restore does: a manifest
 * this Plinth can read, and every entry there, intact, with nothing added. Answers the manifest.
 */
export async function unpackChecked(
  file: string,
  into: string,
  systemMigrations: SystemMigration[],
): Promise<Manifest> {
  await mkdir(into)
  await unpackArchive(file, into)
  if (!existsSync(join(into, MANIFEST_ENTRY)))
    throw new Error(`${file} is not a Plinth backup: it has no ${MANIFEST_ENTRY}.`)
  const manifest = parseManifest(
    await readFile(join(into, MANIFEST_ENTRY), 'utf8'),
    systemMigrations.map((migration) => migration.name),
  )
  await verifyEntries(into, manifest)
  return manifest
}

async function hasFiles(folder: string): Promise<boolean> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true }).catch(() => [])
  return entries.some((entry) => entry.isFile())
}

async function refuseStoredFiles(config: PlinthConfig): Promise<void> {
  if (await hasFiles(config.files.localDir))
    throw new Error(
      `${config.files.localDir} already holds files: restore into an empty data folder, or pass --force to replace them.`,
    )
}

async function refuseNonEmptyFolder(config: PlinthConfig, restoresFiles: boolean): Promise<void> {
  if (existsSync(sqliteFile(config.dataDir)))
    throw new Error(
      `${config.dataDir} already holds a database: restore into an empty data folder, or pass --force to replace it.`,
    )
  if (restoresFiles) await refuseStoredFiles(config)
}

/**
 * Moves each replaced path aside, then each staged one into its place, all within one disk.
 * When a step fails, what moved is moved back, so the data folder is as it was.
 */
async function swapIn(replacements: Replacement[], aside: string): Promise<void> {
  await mkdir(aside)
  const movedAside: Array<[string, string]> = []
  const placed: Array<[string, string]> = []
  try {
    for (const [index, { path }] of replacements.entries()) {
      if (!existsSync(path)) continue
      const kept = join(aside, String(index))
      await rename(path, kept)
      movedAside.push([path, kept])
    }
    for (const { path, staged } of replacements) {
      if (staged === null || !existsSync(staged)) continue
      await rename(staged, path)
      placed.push([path, staged])
    }
  } catch (error) {
    for (const [path, staged] of placed.reverse()) await rename(path, staged)
    for (const [path, kept] of movedAside.reverse()) await rename(kept, path)
    throw error
  }
}

/** Files of a backup made on local disk, restored where the files now live: the S3 bucket. */
async function uploadFiles(config: PlinthConfig, folder: string): Promise<void> {
  const storage = await openFileStorage(config.files)
  try {
    const entries = await readdir(folder, { recursive: true, withFileTypes: true }).catch(() => [])
    for (const entry of entries.filter((e) => e.isFile())) {
      const path = join(entry.parentPath, entry.name)
      const key = path
        .slice(folder.length + 1)
        .split(/[\\/]/)
        .join('/')
      await storage.write(key, createReadStream(path), 'application/octet-stream')
    }
  } finally {
    await storage.close()
  }
}

function notesOn(manifest: Manifest, config: PlinthConfig): string[] {
  const notes: string[] = []
  if (manifest.secret === 'environment')
    notes.push(
      'The backup was made with PLINTH_SECRET set: start Plinth with the same PLINTH_SECRET, or signing keys and second factors cannot be read.',
    )
  else if (config.secret !== null)
    notes.push(
      `The instance secret was restored to ${secretFile(config.dataDir)}, but PLINTH_SECRET is set and wins: unset it, or set it to the file's content.`,
    )
  if (!manifest.files.included)
    notes.push(
      `The files of records were not in the backup: they stay in the S3 bucket ${manifest.files.bucket}.`,
    )
  else if (manifest.files.missing.length > 0)
    notes.push(`${manifest.files.missing.length} files were missing from storage when the backup was made.`)
  return notes
}
