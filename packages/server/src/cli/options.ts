import { resolve } from 'node:path'
import { type Command, Option } from 'commander'
import { ConfigError, loadConfig, type PlinthConfig } from '../config/index.js'
import type { Core } from '../core/index.js'

export interface DatabaseFlags {
  dir?: string
  databaseUrl?: string
  /** The project config to load, for commands that write records (its hooks run). */
  config?: string
}

/** Configuration from the environment with the command's flags on top. */
export function configFrom(flags: DatabaseFlags & { host?: string; port?: string }): PlinthConfig {
  const overrides: Partial<PlinthConfig> = {}
  if (flags.dir) overrides.dataDir = flags.dir
  if (flags.host) overrides.host = flags.host
  if (flags.port !== undefined) {
    if (!/^\d{1,5}$/.test(flags.port) || Number(flags.port) > 65535)
      throw new ConfigError('--port', `expected 0..65535, got "${flags.port}"`)
    overrides.port = Number(flags.port)
  }
  // Through the environment, so a flag is checked like the variable it stands for.
  const env = flags.databaseUrl ? { ...process.env, PLINTH_DATABASE_URL: flags.databaseUrl } : process.env
  return loadConfig(env, overrides)
}

/** The config file named on the command line, or the project's own in this folder. */
export async function projectConfigFile(given: string | undefined): Promise<string | null> {
  if (given) return resolve(given)
  const { findConfigFile } = await import('../extensions/index.js')
  return findConfigFile(process.cwd())
}

/**
 * Opens the core for a one-off command and always closes it. Commands that write
 * records load the project config, so its hooks run as they would over HTTP;
 * schema commands do not, since the config may name collections they create.
 */
export async function withDatabase<T>(
  flags: DatabaseFlags,
  work: (plinth: Core) => Promise<T>,
  options: { project?: boolean } = {},
): Promise<T> {
  const projectConfig = options.project ? await projectConfigFile(flags.config) : null
  const { createCore } = await import('../core/index.js')
  const plinth = await createCore({ ...configFrom(flags), logLevel: 'silent', projectConfig })
  try {
    return await work(plinth)
  } finally {
    await plinth.close()
  }
}

export function databaseOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--dir <path>', 'data folder (SQLite file, instance secret)').env('PLINTH_DATA_DIR'),
    )
    .addOption(
      new Option('--database-url <url>', 'postgres://… to use PostgreSQL instead of SQLite').env(
        'PLINTH_DATABASE_URL',
      ),
    )
}
