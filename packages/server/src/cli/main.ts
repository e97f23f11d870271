import { writeFileSync } from 'node:fs'
import { Command, Option } from 'commander'
import { ConfigError, plinthVersion } from '../config/index.js'
import { PlinthError } from '../errors/index.js'
import { backupCommands } from './backups.js'
import { importCommands } from './imports.js'
import {
  configFrom,
  type DatabaseFlags,
  databaseOptions,
  projectConfigFile,
  withDatabase,
} from './options.js'
import { schemaCommands } from './schema.js'

/**
 * The commands and their options. Each command loads what it runs only when it runs, so
 * `--help`, `--version` and a mistyped option answer without loading the server.
 */
function program(): Command {
  const root = new Command('plinth')
    .description('Plinth: collections become a secure REST API, on SQLite or PostgreSQL.')
    .version(plinthVersion(), '-v, --version', 'print the version')
    .showHelpAfterError()

  databaseOptions(
    root
      .command('serve')
      .description('start the server (drains in-flight requests on SIGINT/SIGTERM)')
      .addOption(new Option('--host <host>', 'address to listen on').env('PLINTH_HOST'))
      .addOption(new Option('--port <port>', 'port to listen on').env('PLINTH_PORT'))
      .addOption(
        new Option('--config <file>', 'the project config (default: plinth.config.ts in this folder)').env(
          'PLINTH_CONFIG',
        ),
      )
      .option('--dev', 'reload the project config when it changes'),
  ).action(async (flags) => {
    const config = configFrom(flags)
    const { serve } = await import('./serve.js')
    await serve(
      { ...config, projectConfig: await projectConfigFile(flags.config) },
      { dev: flags.dev === true },
    )
  })

  databaseOptions(
    root
      .command('typegen')
      .description('write TypeScript types of the live collections for hooks, routes and clients')
      .option('--out <file>', 'where to write them', 'plinth-types.d.ts'),
  ).action(async (flags: DatabaseFlags & { out: string }) => {
    const { collectionTypes } = await import('../extensions/index.js')
    const source = await withDatabase(flags, async ({ registry }) => collectionTypes(registry.all()))
    writeFileSync(flags.out, source)
    console.log(`Wrote the record types of the collections to ${flags.out}.`)
  })

  const superuser = root.command('superuser').description('manage superusers')
  databaseOptions(
    superuser.command('upsert').description('create a superuser, or set the password of an existing one'),
  )
    .argument('<email>')
    .argument('<password>')
    .addOption(
      new Option(
        '--config <file>',
        'the project config whose hooks run (default: plinth.config.ts here)',
      ).env('PLINTH_CONFIG'),
    )
    .action(async (email: string, password: string, flags: DatabaseFlags) => {
      const { upsertSuperuser } = await import('../auth/index.js')
      const outcome = await withDatabase(flags, ({ records }) => upsertSuperuser(records, email, password), {
        project: true,
      })
      console.log(`Superuser ${email.trim().toLowerCase()} ${outcome}.`)
    })

  const migrate = root
    .command('migrate')
    .description('collection migrations: every schema change is one, with its down statements')
  databaseOptions(migrate.command('status').description('list migrations, newest last')).action(
    async (flags: DatabaseFlags) => {
      const list = await withDatabase(flags, ({ collections }) => collections.migrations())
      if (list.length === 0) console.log('No collection migrations yet.')
      for (const m of list)
        console.log(
          `${String(m.seq).padStart(4)}  ${m.reverted ? 'reverted' : 'applied '}  ${m.applied}  ${m.name}`,
        )
    },
  )
  databaseOptions(migrate.command('up').description('re-apply the oldest reverted migration')).action(
    async (flags: DatabaseFlags) => {
      const applied = await withDatabase(flags, ({ collections }) => collections.migrateUp())
      console.log(applied ? `Applied ${applied.seq} ${applied.name}.` : 'Nothing to apply.')
    },
  )
  databaseOptions(migrate.command('down').description('revert the newest applied migration')).action(
    async (flags: DatabaseFlags) => {
      const reverted = await withDatabase(flags, ({ collections }) => collections.migrateDown())
      console.log(reverted ? `Reverted ${reverted.seq} ${reverted.name}.` : 'Nothing to revert.')
    },
  )

  schemaCommands(root)
  backupCommands(root)
  importCommands(root)
  return root
}

/** One line on stderr and a non-zero exit: no stack traces for a user's mistake. */
async function fail(error: unknown): Promise<never> {
  const { ProjectConfigError } = await import('../extensions/index.js')
  if (error instanceof ConfigError || error instanceof ProjectConfigError) console.error(error.message)
  else if (error instanceof PlinthError) {
    const fields = error.fields
      ? ` (${Object.entries(error.fields)
          .map(([k, v]) => `${k}: ${v.message}`)
          .join('; ')})`
      : ''
    console.error(`${error.message}${fields}`)
  } else console.error(`plinth: ${(error as Error)?.message ?? String(error)}`)
  process.exit(1)
}

program().parseAsync(process.argv).catch(fail)
