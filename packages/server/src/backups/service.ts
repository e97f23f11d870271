import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { Logger } from 'pino'
import type { PlinthConfig } from '../config/index.js'
import type { Dialect, SystemMigration } from '../db/index.js'
import { BadRequestError, ConflictError, NotFoundError } from '../errors/index.js'
import { createBackup } from './backup.js'
import { archiveName, archiveTime, type BackupDestination, openDestination } from './destinations.js'
import type { Manifest } from './manifest.js'
import { restoreBackup, unpackChecked } from './restore.js'

/** An archive of the backups folder (or bucket) as the API lists it. */
export interface BackupInfo {
  name: string
  /** Bytes. */
  size: number
  created: string
}

/**
 * Replaces the running server: closes it (requests drained, database closed), runs `between`,
 * and starts it again on what `between` left. `plinth serve` provides one.
 */
export type Restart = (between: () => Promise<void>) => void

/**
 * The archives of the configured destination (PLINTH_BACKUP_TO) for the API: list, make,
 * read, remove, upload and restore, through the same code as `plinth backup` and
 * `plinth restore`. One backup, upload or restore runs at a time per node.
 */
export class BackupService {
  #busy: string | null = null
  /** Set once a restore was checked: the server is about to be replaced, and nothing else may start. */
  #isRestoring = false

  constructor(
    private readonly config: PlinthConfig,
    private readonly dialect: Dialect,
    private readonly systemMigrations: SystemMigration[],
    private readonly log: Logger,
  ) {}

  /** The archives there, newest first. */
  async list(): Promise<BackupInfo[]> {
    return this.withDestination(async (destination) => {
      const infos: BackupInfo[] = []
      for (const name of (await destination.list()).reverse()) {
        const size = await destination.size(name)
        if (size !== null) infos.push({ name, size, created: archiveTime(name) })
      }
      return infos
    })
  }

  async create(): Promise<BackupInfo> {
    return this.exclusively('A backup', () =>
      this.withDestination(async (destination) => {
        const { size, manifest } = await createBackup(this.config, this.dialect, destination)
        return { name: archiveName(manifest.created), size, created: manifest.created }
      }),
    )
  }

  /** An archive's bytes and size; a name that is not there is a 404. */
  async read(name: string): Promise<{ body: Readable; size: number }> {
    const destination = await this.open()
    try {
      const size = await destination.size(name)
      if (size === null) throw new NotFoundError('backup')
      const body = await destination.read(name)
      body.once('close', () => void destination.close())
      return { body, size }
    } catch (error) {
      await destination.close()
      throw error
    }
  }

  async remove(name: string): Promise<void> {
    await this.withDestination(async (destination) => {
      if ((await destination.size(name)) === null) throw new NotFoundError('backup')
      await destination.remove([name])
    })
  }

  /** Keeps an uploaded archive under `name`, once it is checked as a restore would check it. */
  async upload(name: string, body: Readable): Promise<BackupInfo> {
    return this.exclusively('A backup', () =>
      this.withDestination(async (destination) => {
        if ((await destination.size(name)) !== null)
          throw new BadRequestError(`A backup named ${name} exists already.`, 'validation_failed', {
            file: { code: 'exists', message: `${name} exists already` },
          })
        const staging = await this.staging(destination, '.upload-')
        try {
          const file = join(staging, name)
          await pipeline(body, createWriteStream(file))
          await this.check(file, name, staging)
          await destination.write(name, createReadStream(file))
          return { name, size: (await destination.size(name)) ?? 0, created: archiveTime(name) }
        } finally {
          await rm(staging, { recursive: true, force: true })
        }
      }),
    )
  }

  /**
   * Checks the archive, then has `restart` replace the server: it closes, the archive is
   * restored over its data (as `plinth restore --force` does), and it starts again on it.
   * A restore that fails there changes nothing (it is atomic) and the server starts as it was.
   * Answers once the check passed; the restart begins when the caller's answer has gone.
   */
  async restore(name: string): Promise<() => Promise<void>> {
    return this.exclusively('A restore', () =>
      this.withDestination(async (destination) => {
        if ((await destination.size(name)) === null) throw new NotFoundError('backup')
        // Beside the data folder, so the restore's renames stay on one disk.
        const staging = await mkdtemp(join(this.config.dataDir, '.restore-api-'))
        try {
          const file = join(staging, name)
          await pipeline(await destination.read(name), createWriteStream(file))
          const manifest = await this.check(file, name, staging)
          if (this.config.databaseUrl && manifest.dialect === 'sqlite')
            throw new BadRequestError(
              'The backup is of a SQLite database and restores to SQLite only; this server runs on PostgreSQL.',
              'invalid_backup',
            )
        } catch (error) {
          await rm(staging, { recursive: true, force: true })
          throw error
        }
        this.#isRestoring = true
        return async () => {
          try {
            const { notes } = await restoreBackup(join(staging, name), this.config, this.systemMigrations, {
              force: true,
            })
            this.log.info({ backup: name, notes }, 'backup restored')
          } catch (error) {
            this.log.error({ err: error, backup: name }, 'the restore failed; the data is as it was')
          } finally {
            await rm(staging, { recursive: true, force: true })
          }
        }
      }),
    )
  }

  /** Unpacks the archive beside it and checks it; anything wrong is the caller's 400. */
  private async check(file: string, name: string, staging: string): Promise<Manifest> {
    const unpacked = join(staging, 'check')
    try {
      return await unpackChecked(file, unpacked, this.systemMigrations)
    } catch (error) {
      // The messages name the staged file: the caller knows the archive by its name.
      throw new BadRequestError((error as Error).message.replaceAll(file, name), 'invalid_backup')
    } finally {
      await rm(unpacked, { recursive: true, force: true })
    }
  }

  private async staging(destination: BackupDestination, prefix: string): Promise<string> {
    const parent = destination.stagingParent ?? join(this.config.dataDir, 'backups')
    await mkdir(parent, { recursive: true })
    return mkdtemp(join(parent, prefix))
  }

  private async exclusively<T>(what: string, work: () => Promise<T>): Promise<T> {
    const running = this.#isRestoring ? 'A restore' : this.#busy
    if (running)
      throw new ConflictError('backup_in_progress', `${running} is running; try again when it ends.`)
    this.#busy = what
    try {
      return await work()
    } finally {
      this.#busy = null
    }
  }

  private open(): Promise<BackupDestination> {
    return openDestination(this.config, this.config.backups.to)
  }

  private async withDestination<T>(work: (destination: BackupDestination) => Promise<T>): Promise<T> {
    const destination = await this.open()
    try {
      return await work(destination)
    } finally {
      await destination.close()
    }
  }
}
