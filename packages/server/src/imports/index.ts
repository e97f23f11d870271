/**
 * Imports from other backends into a Plinth: `plinth import pocketbase <pb_data>` reads a
 * PocketBase's data folder and brings over its collections, rules, records, users (their
 * bcrypt hashes, replaced with argon2id at their next sign-in), files and superusers.
 *
 * @example
 * const data = await PocketBaseData.open('pb_data')
 * try {
 *   process.stdout.write(formatReport(await importPocketBase(core, data, { dryRun: true, force: false })))
 * } finally {
 *   await data.close()
 * }
 */
export { formatReport, type ImportNote, type ImportReport } from './import-report.js'
export { PocketBaseData } from './pocketbase-data.js'
export { type ImportOptions, importPocketBase } from './pocketbase-import.js'
