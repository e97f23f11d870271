/** The layout of an archive; a Plinth reads the formats up to its own. */
export const BACKUP_FORMAT = 1
export const MANIFEST_ENTRY = 'manifest.json'

export interface ArchivedFile {
  size: number
  sha256: string
}

/** Where the files of records were when the backup was made, and whether the archive holds them. */
export type ManifestFiles =
  | { storage: 'local'; included: true; count: number; missing: string[] }
  | { storage: 's3'; included: false; bucket: string }

/** The first entry of every archive: what it holds and how to check it. */
export interface Manifest {
  format: typeof BACKUP_FORMAT
  /** The version of the Plinth that made it. */
  plinth: string
  /**
   * `sqlite`: the database file itself (database/data.db). `postgres`: a logical copy, the
   * schema file (schema.json) and one JSON-lines file per table (tables/<name>.jsonl).
   */
  dialect: 'sqlite' | 'postgres'
  created: string
  /** The steps of Plinth's own schema the database had: a Plinth that lacks one cannot read it. */
  systemMigrations: string[]
  files: ManifestFiles
  /** `included`: the instance secret's key file is in the archive; `environment`: it was PLINTH_SECRET. */
  secret: 'included' | 'environment'
  /** Every other entry of the archive, by path. */
  entries: Record<string, ArchivedFile>
  /** Logical copies: the rows of each table. */
  tables?: Record<string, number>
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** Reads a manifest and checks that this Plinth can restore it; throws a message naming what is wrong. */
export function parseManifest(text: string, knownMigrations: readonly string[]): Manifest {
  let manifest: unknown
  try {
    manifest = JSON.parse(text)
  } catch {
    throw new Error('The archive is not a Plinth backup: its manifest is not JSON.')
  }
  if (!isObject(manifest) || typeof manifest.format !== 'number')
    throw new Error('The archive is not a Plinth backup: its manifest has no format.')
  const madeBy = typeof manifest.plinth === 'string' ? `Plinth ${manifest.plinth}` : 'another Plinth'
  if (manifest.format > BACKUP_FORMAT)
    throw new Error(`The backup was made by ${madeBy}, in a format this Plinth cannot read; upgrade Plinth.`)
  const migrations = manifest.systemMigrations
  if (!Array.isArray(migrations) || !migrations.every((name) => typeof name === 'string'))
    throw new Error('The archive is not a Plinth backup: its manifest lists no system migrations.')
  const unknown = migrations.filter((name) => !knownMigrations.includes(name))
  if (unknown.length > 0)
    throw new Error(
      `The backup was made by ${madeBy}, whose database has steps this Plinth does not know (${unknown.join(', ')}); upgrade Plinth to restore it.`,
    )
  if (manifest.dialect !== 'sqlite' && manifest.dialect !== 'postgres')
    throw new Error('The archive is not a Plinth backup: its manifest names no database.')
  if (!isObject(manifest.entries) || !Object.values(manifest.entries).every(isArchivedFile))
    throw new Error('The archive is not a Plinth backup: its manifest lists no checksums.')
  if (!isObject(manifest.files) || (manifest.secret !== 'included' && manifest.secret !== 'environment'))
    throw new Error('The archive is not a Plinth backup: its manifest is incomplete.')
  return manifest as unknown as Manifest
}

function isArchivedFile(value: unknown): value is ArchivedFile {
  return isObject(value) && typeof value.size === 'number' && typeof value.sha256 === 'string'
}
