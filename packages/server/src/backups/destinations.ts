import { join, resolve, sep } from 'node:path'
import type { Readable } from 'node:stream'
import type { PlinthConfig } from '../config/index.js'
import { type FileStorage, LocalStorage, openFileStorage } from '../files/index.js'

/** The names Plinth gives archives; pruning never touches anything else. */
const ARCHIVE_NAME = /^plinth-backup-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3}Z\.tar\.gz$/
/** Archives go under this prefix of the bucket of the files, beside the collections' folders. */
export const S3_PREFIX = 'backups/'

/** A name that sorts by time: the newest archive is the last in name order. */
export function archiveName(created: string): string {
  return `plinth-backup-${created.replaceAll(':', '-')}.tar.gz`
}

/** Whether `name` is one Plinth gives archives: the only names the API reads, writes or removes. */
export function isArchiveName(name: string): boolean {
  return ARCHIVE_NAME.test(name)
}

/** When the archive of this name was made, as `archiveName` wrote it into the name. */
export function archiveTime(name: string): string {
  const time = name.slice('plinth-backup-'.length, -'.tar.gz'.length)
  return time.replace(/T(\d{2})-(\d{2})-(\d{2})/, 'T$1:$2:$3')
}

/** Where archives are kept: a folder, or the S3 bucket of the files. */
export interface BackupDestination {
  /** What names of archives follow, for messages: the folder, or s3://bucket/backups/. */
  readonly label: string
  /** A folder on the same disk as the archives, for the parts of one being made; null for the system's. */
  readonly stagingParent: string | null
  /** Stores an archive under `name`; a failed write leaves nothing under that name. Answers where it went. */
  write(name: string, body: Readable): Promise<string>
  /** The archives there, oldest first. */
  list(): Promise<string[]>
  /** An archive's bytes; rejects with a code of `ENOENT` when there is none of that name. */
  read(name: string): Promise<Readable>
  /** An archive's size in bytes, or null when there is none of that name. */
  size(name: string): Promise<number | null>
  remove(names: readonly string[]): Promise<void>
  close(): Promise<void>
}

/**
 * The destination `--to` (or PLINTH_BACKUP_TO) names: `s3` for the configured bucket, else a
 * folder; by default the data folder's `backups/`.
 */
export async function openDestination(config: PlinthConfig, to: string | null): Promise<BackupDestination> {
  if (to !== 's3') {
    const folder = resolve(to ?? join(config.dataDir, 'backups'))
    return storageDestination(new LocalStorage(folder), '', `${folder}${sep}`, folder)
  }
  if (!config.files.s3)
    throw new Error('Backups to s3 go to the bucket of the files: set PLINTH_S3_BUCKET and its credentials.')
  const storage = await openFileStorage(config.files)
  return storageDestination(storage, S3_PREFIX, `s3://${config.files.s3.bucket}/${S3_PREFIX}`, null)
}

/**
 * Archives as objects of a file storage: a folder on disk, or the bucket of the files under
 * `backups/`. Either stores an archive whole or not at all.
 */
function storageDestination(
  storage: FileStorage,
  prefix: string,
  label: string,
  stagingParent: string | null,
): BackupDestination {
  return {
    label,
    stagingParent,
    async write(name, body) {
      await storage.write(`${prefix}${name}`, body, 'application/gzip')
      return `${label}${name}`
    },
    async list() {
      const keys = await storage.list(prefix)
      return keys
        .map((key) => key.slice(prefix.length))
        .filter((name) => ARCHIVE_NAME.test(name))
        .sort()
    },
    read: (name) => storage.read(`${prefix}${name}`),
    size: async (name) => (await storage.stat(`${prefix}${name}`))?.size ?? null,
    remove: (names) => storage.delete(names.map((name) => `${prefix}${name}`)),
    close: () => storage.close(),
  }
}

/** Keeps the newest `keep` archives of the destination and removes the older ones; answers those removed. */
export async function pruneArchives(destination: BackupDestination, keep: number): Promise<string[]> {
  const names = await destination.list()
  const older = names.slice(0, Math.max(0, names.length - keep))
  await destination.remove(older)
  return older
}
