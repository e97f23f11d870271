import type { Command } from 'commander'
import { type DatabaseFlags, databaseOptions, withDatabase } from './options.js'

const pocketBaseHelp = `
Reads <pb_data> (the data folder of PocketBase v0.23 or newer: data.db and storage/) and
imports its collections, fields, indexes, rules, records with their ids, users with their
passwords, files and superusers into the Plinth of --dir or --database-url. Stop PocketBase
first. The target must have no collections yet, unless --force; all of it is imported or
nothing. The report lists each collection's records and files, and everything that could
not be translated as it was: a rule that cannot be is imported as null (superusers only).
See docs/pocketbase-import.md.
`

export function importCommands(root: Command): void {
  const command = root.command('import').description('bring data over from another backend')
  databaseOptions(
    command
      .command('pocketbase')
      .description("import a PocketBase's collections, records, users, files and superusers")
      .argument('<pb_data>', "the PocketBase's data folder")
      .option('--dry-run', 'only print the report of what the import would do')
      .option('--force', 'import beside the collections the target has already')
      .addHelpText('after', pocketBaseHelp),
  ).action(async (dir: string, flags: DatabaseFlags & { dryRun?: boolean; force?: boolean }) => {
    // The source is checked before the target is opened: a wrong folder leaves no trace.
    const { formatReport, importPocketBase, PocketBaseData } = await import('../imports/index.js')
    const data = await PocketBaseData.open(dir)
    try {
      const report = await withDatabase(flags, (core) =>
        importPocketBase(core, data, { dryRun: flags.dryRun === true, force: flags.force === true }),
      )
      process.stdout.write(formatReport(report))
    } finally {
      await data.close()
    }
  })
}
