import { readFileSync, writeFileSync } from 'node:fs'
import type { Command } from 'commander'
import type { SchemaFile } from '../collections/index.js'
import { PlinthError } from '../errors/index.js'
import { type DatabaseFlags, databaseOptions, withDatabase } from './options.js'

interface PlanFlags extends DatabaseFlags {
  deleteMissing?: boolean
  dryRun?: boolean
}

const matchingHelp = `
Collections are matched by the id in the file when the database has it, else by name,
else by the ids of their fields; a collection matched under another name is renamed and
keeps its records. Fields are matched by id, then by name and type, so a field renamed
in the file keeps its data. System collections (such as _superusers) are never touched.
`

const importHelp = `${matchingHelp}
New collections are created first without their relation fields, then every collection
is updated to its definition, so relations between new collections (even cycles) work.

All the changes run as one migration, in one transaction (see "plinth migrate status";
"plinth migrate down" undoes the whole import): if the database refuses one of them (say a
unique index over duplicate values), nothing changes, and the command names the collection
that failed, exiting with status 1. --dry-run runs them the same way and rolls back.
`

/** What the schema commands run, loaded only when one of them runs. */
async function schemaTools() {
  const [collections, rules] = await Promise.all([
    import('../collections/index.js'),
    import('../rules/index.js'),
  ])
  return { ...collections, checkRules: rules.checkRules }
}

export function schemaCommands(root: Command): void {
  const schema = root
    .command('schema')
    .description('collection definitions as a file for version control: export, import, diff')

  databaseOptions(
    schema
      .command('export')
      .description('write the definitions of all non-system collections as a schema file')
      .option('--file <path>', 'write to this file instead of stdout'),
  ).action(async (flags: DatabaseFlags & { file?: string }) => {
    const { exportSchema } = await schemaTools()
    const { text, count } = await withDatabase(flags, async ({ collections }) => ({
      text: exportSchema(collections.list()),
      count: collections.list().filter((c) => !c.system).length,
    }))
    if (!flags.file) {
      process.stdout.write(text)
      return
    }
    writeFileSync(flags.file, text)
    console.log(`Exported ${count} collection${count === 1 ? '' : 's'} to ${flags.file}.`)
  })

  databaseOptions(
    schema
      .command('import')
      .description('make the collections of the database match a schema file')
      .argument('<file>', 'a file written by "plinth schema export"')
      .option('--delete-missing', 'also delete collections that are not in the file (and their records)')
      .option('--dry-run', 'print what would change, as "plinth schema diff" does, and change nothing')
      .addHelpText('after', importHelp),
  ).action(async (path: string, flags: PlanFlags) => {
    const { describePlan } = await schemaTools()
    // Read before the database is opened: a file that does not parse changes nothing.
    const file = await readSchemaFile(path)
    await withDatabase(flags, async ({ collections }) => {
      // The same path as PUT /api/collections/import: one migration, all or nothing.
      const { plan } = await collections
        .importSchema(file, { deleteMissing: flags.deleteMissing === true, dryRun: flags.dryRun === true })
        .catch((error: unknown) => {
          throw new Error(`import stopped. ${oneLine(error)} Nothing was changed.`)
        })
      if (flags.dryRun) console.log(describePlan(plan))
      else if (plan.steps.length === 0) console.log('Nothing to change.')
      else {
        for (const step of plan.steps) console.log(step.done)
        console.log(`Imported ${path}: ${plan.steps.length} change${plan.steps.length === 1 ? '' : 's'}.`)
      }
    })
  })

  databaseOptions(
    schema
      .command('diff')
      .description(
        'print what "plinth schema import" would change: exits 0 with or without differences, 1 when the file cannot be imported',
      )
      .argument('<file>', 'a file written by "plinth schema export"')
      .option('--delete-missing', 'show collections missing from the file as deleted')
      .addHelpText('after', matchingHelp),
  ).action(async (path: string, flags: PlanFlags) => {
    const { planSchemaImport, checkRules, describePlan } = await schemaTools()
    const file = await readSchemaFile(path)
    const plan = await withDatabase(flags, async ({ dialect, collections }) =>
      planSchemaImport(collections.list(), file, {
        deleteMissing: flags.deleteMissing === true,
        checkRules: checkRules(dialect),
      }),
    )
    console.log(describePlan(plan))
  })
}

async function readSchemaFile(path: string): Promise<SchemaFile> {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new Error(
      `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    )
  }
  const { parseSchemaFile } = await schemaTools()
  return parseSchemaFile(text)
}

function oneLine(error: unknown): string {
  if (!(error instanceof PlinthError)) return (error as Error)?.message ?? String(error)
  const fields = Object.entries(error.fields ?? {}).map(([key, value]) => `${key}: ${value.message}`)
  return fields.length > 0 ? `${error.message} (${fields.join('; ')})` : error.message
}
