import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import type { Command } from 'commander'
import { loadConfig } from '../config/index.js'
import { configFrom, type DatabaseFlags, databaseOptions } from './options.js'
import { progressPrinter } from './progress.js'

const backupHelp = `
The archive (.tar.gz) holds the database, the files of records when they are on local disk
(on S3 they stay in the bucket), the instance secret's key file, and a manifest with a
checksum of each. SQLite is copied while the server runs (a consistent snapshot); PostgreSQL
is read in one snapshot as the collections' schema plus every table as JSON lines.
Archives are named plinth-backup-<time>.tar.gz; keep them as safe as the data folder.
`

const restoreHelp = `
The archive is checked first (manifest, versions, every checksum); nothing changes if it
fails. The target must be empty unless --force: a data folder without a database and
files, a PostgreSQL database without Plinth's data. Stop the servers of the target first.
A SQLite backup restores to SQLite; a PostgreSQL backup to PostgreSQL or SQLite.
`

const migrateHelp = `
Copies the collections, records, users with their password hashes, sessions, API keys,
files metadata and every other table of Plinth's from a SQLite data folder into an empty
PostgreSQL database, in batches. Stop the server of the source first. An interrupted run
goes on where it stopped when run again with the same --from and --to. At the end every
table is compared on both sides (row count and checksum). Then start Plinth with
--database-url and the same data folder: it keeps the instance secret and the files.
`

function positiveInteger(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw new Error(`${flag} must be a whole number from 1, got "${value}"`)
  return Number(value)
}

function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}

export function backupCommands(root: Command): void {
  databaseOptions(
    root
      .command('backup')
      .description('write an archive of the database, the files of records and the instance secret')
      .option(
        '--to <dir|s3>',
        'a folder, or s3 for the bucket of the files (default: backups/ in the data folder)',
      )
      .option('--keep <n>', 'then remove all but the newest n archives there')
      .addHelpText('after', backupHelp),
  ).action(async (flags: DatabaseFlags & { to?: string; keep?: string }) => {
    const config = configFrom(flags)
    const keep = flags.keep === undefined ? undefined : positiveInteger('--keep', flags.keep, 1)
    const { createBackup, openDestination } = await import('../backups/index.js')
    const { openDatabase } = await import('../db/index.js')
    const destination = await openDestination(config, flags.to ?? null)
    const database = config.databaseUrl ? await openDatabase(config) : null
    try {
      const { location, size, manifest, pruned } = await createBackup(config, database, destination, { keep })
      const files = manifest.files.included
        ? `${manifest.files.count} files`
        : `files left in the bucket ${manifest.files.bucket}`
      console.log(`Backed up to ${location} (${megabytes(size)}, ${files}).`)
      if (manifest.files.included && manifest.files.missing.length > 0)
        console.log(`${manifest.files.missing.length} files named by records were missing from storage.`)
      if (pruned.length > 0) console.log(`Removed ${pruned.length} older archives.`)
    } finally {
      await database?.close()
      await destination.close()
    }
  })

  databaseOptions(
    root
      .command('restore')
      .description('restore an archive made by "plinth backup" into an empty data folder or database')
      .argument('<file>', 'a plinth-backup-….tar.gz')
      .option('--force', 'replace what the target holds')
      .addHelpText('after', restoreHelp),
  ).action(async (file: string, flags: DatabaseFlags & { force?: boolean }) => {
    const config = configFrom(flags)
    const { restoreBackup } = await import('../backups/index.js')
    const { systemMigrations } = await import('../core/index.js')
    const { manifest, into, notes } = await restoreBackup(resolve(file), config, systemMigrations(), {
      force: flags.force === true,
    })
    const database = manifest.dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL'
    console.log(
      `Restored the ${database} backup of ${manifest.created} (Plinth ${manifest.plinth}) into ${into}.`,
    )
    for (const note of notes) console.log(note)
  })

  root
    .command('migrate-data')
    .description('copy all data of a SQLite data folder into an empty PostgreSQL database, resumably')
    .requiredOption('--from <dir>', 'the SQLite data folder')
    .requiredOption('--to <url>', 'postgres://… of an empty database')
    .option('--batch-size <n>', 'rows per batch (each batch is committed with how far the copy got)')
    .addHelpText('after', migrateHelp)
    .action(async (flags: { from: string; to: string; batchSize?: string }) => {
      const batchSize = positiveInteger('--batch-size', flags.batchSize, 1000)
      if (!/^postgres(ql)?:\/\//.test(flags.to) || !URL.canParse(flags.to))
        throw new Error(`--to must be a postgres://… URL, got "${flags.to}"`)
      const { migrateData } = await import('../backups/index.js')
      const { openPlinthDatabase } = await import('../core/index.js')
      const { sqliteFile } = await import('../db/index.js')
      const { default: pino } = await import('pino')
      const sourceConfig = loadConfig(process.env, {
        dataDir: flags.from,
        databaseUrl: null,
        logLevel: 'silent',
      })
      if (!existsSync(sqliteFile(sourceConfig.dataDir)))
        throw new Error(`There is no SQLite database in ${sourceConfig.dataDir}.`)
      const targetConfig = loadConfig(
        { ...process.env, PLINTH_DATABASE_URL: flags.to },
        { dataDir: sourceConfig.dataDir, logLevel: 'silent' },
      )
      const log = pino({ level: 'silent' })
      const source = await openPlinthDatabase(sourceConfig, log)
      const printer = progressPrinter(process.stdout)
      try {
        const target = await openPlinthDatabase(targetConfig, log)
        try {
          const result = await migrateData(source, target, {
            sourceLabel: sourceConfig.dataDir,
            batchSize,
            onProgress: (progress) => printer.report(progress),
          })
          printer.end()
          if (result.resumedRows > 0)
            console.log(`Went on from an earlier run that had copied ${result.resumedRows} rows.`)
          const rows = result.tables.reduce((sum, table) => sum + table.rows, 0)
          console.log(
            `Copied and verified ${result.tables.length} tables (${rows} rows). Start Plinth with --database-url and --dir ${sourceConfig.dataDir}.`,
          )
        } finally {
          await target.dialect.close()
        }
      } finally {
        printer.end()
        await source.dialect.close()
      }
    })
}
