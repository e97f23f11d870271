import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { create, extract, list, type ReadEntry } from 'tar'
import { type ArchivedFile, MANIFEST_ENTRY, type Manifest } from './manifest.js'

async function fileDigest(path: string): Promise<ArchivedFile> {
  const hash = createHash('sha256')
  await pipeline(createReadStream(path), hash)
  return { size: (await stat(path)).size, sha256: hash.digest('hex') }
}

/** Every file under `root` by its path inside the archive (with `/`), sorted. */
async function filesUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true })
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)).split(sep).join('/'))
    .sort()
}

/** Size and SHA-256 of every file staged under `root`, as the manifest lists them. */
export async function describeEntries(root: string): Promise<Record<string, ArchivedFile>> {
  const entries: Record<string, ArchivedFile> = {}
  for (const path of await filesUnder(root)) entries[path] = await fileDigest(join(root, ...path.split('/')))
  return entries
}

/** The staged folder as a gzipped tar stream, the manifest first so a reader meets it before the rest. */
export function packArchive(root: string, entries: readonly string[]): Readable {
  const pack = create({ gzip: true, cwd: root, portable: true }, [MANIFEST_ENTRY, ...entries])
  return Readable.from(pack)
}

/**
 * Unpacks an archive into `into`. Only plain files and folders come out: a link could point
 * outside the folder. Anything that is not a readable gzipped tar fails here, before a file
 * is written: an extraction that fails midway still has writes in flight, which would race
 * the caller's cleanup of `into`.
 */
export async function unpackArchive(file: string, into: string): Promise<void> {
  try {
    await list({ file, strict: true })
    await extract({
      file,
      cwd: into,
      strict: true,
      filter: (_path, entry) => {
        const type = (entry as ReadEntry).type
        return type === 'File' || type === 'Directory'
      },
    })
  } catch (error) {
    throw new Error(`${file} is not a Plinth backup, or it is damaged: ${(error as Error).message}.`)
  }
}

/** Checks the unpacked files against the manifest: each listed one there, intact, and nothing else. */
export async function verifyEntries(root: string, manifest: Manifest): Promise<void> {
  const found = new Set((await filesUnder(root)).filter((path) => path !== MANIFEST_ENTRY))
  const extra = [...found].find((path) => !Object.hasOwn(manifest.entries, path))
  if (extra) throw new Error(`The backup is damaged: ${extra} is not in its manifest.`)
  for (const path of Object.keys(manifest.entries)) {
    if (!found.has(path)) throw new Error(`The backup is damaged: ${path} is missing from it.`)
    const actual = await fileDigest(join(root, ...path.split('/')))
    const expected = manifest.entries[path]!
    if (actual.size !== expected.size || actual.sha256 !== expected.sha256)
      throw new Error(`The backup is damaged: ${path} does not match its checksum.`)
  }
}
