import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

/** The package the admin app is built in (packages/admin of the repository). */
export const ADMIN_PACKAGE = '@plinth/admin'

/**
 * The folder of the built admin app, found the way Node finds any package (so it does not
 * depend on the working directory), or null when the package is missing or not built.
 */
export function findAdminBuild(): string | null {
  let manifest: string
  try {
    manifest = createRequire(import.meta.url).resolve(`${ADMIN_PACKAGE}/package.json`)
  } catch {
    return null
  }
  const dist = join(dirname(manifest), 'dist')
  return existsSync(join(dist, 'index.html')) ? dist : null
}
