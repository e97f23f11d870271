import type { CollectionDefinition } from '../collections/index.js'
import { operationId, operationVerbs, schemaName, schemaSuffixes } from './document-context.js'

/** `my_posts` → `MyPosts`, `_superusers` → `Superusers`. */
function pascalCase(name: string): string {
  return name
    .split('_')
    .filter((part) => part !== '')
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('')
}

function derivedNames(base: string): string[] {
  return [
    ...schemaSuffixes.map((suffix) => schemaName(base, suffix)),
    ...operationVerbs.map((verb) => operationId(verb, base)),
  ]
}

/**
 * Gives every collection a base for its component names and operation ids.
 * Different names can meet (`my_posts` and `myPosts`, `_superusers` and a user's
 * `superusers`, a collection `auth` and the fixed `AuthRecord`), so a base that
 * would clash gets a numeric suffix. Collections are named oldest first, so a
 * new collection never renames the components of an existing one; every
 * collection takes part, whoever reads the document, so names do not depend on
 * the caller either.
 */
export function allocateBases(
  collections: CollectionDefinition[],
  reserved: ReadonlySet<string>,
): Map<string, string> {
  const taken = new Set(reserved)
  const bases = new Map<string, string>()
  const ordered = [...collections].sort(
    (a, b) =>
      Number(b.system) - Number(a.system) ||
      a.created.localeCompare(b.created) ||
      a.name.localeCompare(b.name),
  )
  for (const collection of ordered) {
    const wanted = pascalCase(collection.name)
    let base = wanted
    for (let n = 2; derivedNames(base).some((name) => taken.has(name)); n++) base = `${wanted}_${n}`
    for (const name of derivedNames(base)) taken.add(name)
    bases.set(collection.name, base)
  }
  return bases
}
