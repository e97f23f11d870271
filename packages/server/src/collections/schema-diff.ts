import { canonical, isBuiltIn, type Json } from './schema-file.js'
import { type CollectionDefinition, emptyDefinition, type IndexDefinition, ruleNames } from './types.js'

/**
 * Field-, index-, rule- and option-level lines, as `describePlan` indents them under a
 * collection. Built-in fields and indexes are implied by the type, so they are left out.
 */
export function diffDefinitions(
  existing: CollectionDefinition | null,
  after: CollectionDefinition,
): string[] {
  const before = existing ?? emptyDefinition(after.type)
  const lines: string[] = []
  const oldFields = before.fields.filter((f) => !f.system)
  const newFields = after.fields.filter((f) => !f.system)
  for (const field of newFields) {
    const old = oldFields.find((f) => f.id === field.id)
    if (!old) {
      const target = field.type === 'relation' ? ` → ${field.collection}` : ''
      lines.push(`+ field ${field.name} (${field.type}${target})`)
      continue
    }
    if (old.name !== field.name) lines.push(`~ field ${old.name} → ${field.name} (renamed)`)
    const was: Json = { ...old }
    const is: Json = { ...field }
    const keys = new Set([...Object.keys(was), ...Object.keys(is)])
    for (const key of [...keys].filter((k) => k !== 'id' && k !== 'name').sort()) {
      const [from, to] = [was[key], is[key]]
      if (canonical(from) !== canonical(to))
        lines.push(`~ field ${field.name}: ${key} ${show(from)} → ${show(to)}`)
    }
  }
  for (const old of oldFields) if (!newFields.some((f) => f.id === old.id)) lines.push(`- field ${old.name}`)
  const kept = (list: typeof oldFields, other: typeof oldFields) =>
    list
      .filter((f) => other.some((g) => g.id === f.id))
      .map((f) => f.id)
      .join()
  if (kept(oldFields, newFields) !== kept(newFields, oldFields)) lines.push('~ field order')

  const oldIndexes = before.indexes.filter((i) => !isBuiltIn(i.id))
  const newIndexes = after.indexes.filter((i) => !isBuiltIn(i.id))
  for (const index of newIndexes) {
    const old = oldIndexes.find((i) => i.id === index.id)
    if (!old) lines.push(`+ ${indexLabel(index)}`)
    else if (indexLabel(old) !== indexLabel(index)) lines.push(`~ ${indexLabel(old)} → ${indexLabel(index)}`)
  }
  for (const old of oldIndexes)
    if (!newIndexes.some((i) => i.id === old.id)) lines.push(`- ${indexLabel(old)}`)
  for (const rule of ruleNames)
    if (before[rule] !== after[rule]) lines.push(`~ ${rule}: ${show(before[rule])} → ${show(after[rule])}`)
  if (before.viewQuery !== after.viewQuery)
    lines.push(`~ viewQuery: ${show(before.viewQuery)} → ${show(after.viewQuery)}`)
  if (canonical(before.options) !== canonical(after.options))
    lines.push(`~ options: ${show(before.options)} → ${show(after.options)}`)
  lines.push(...searchLines(before, after))
  return lines
}

/** Search is a line of its own: adding it builds an index over every stored record. */
function searchLines(before: CollectionDefinition, after: CollectionDefinition): string[] {
  const label = (c: CollectionDefinition) =>
    `search (${c.search!.fields.join(', ')}; ${c.search!.language}${c.search!.fuzzy ? ', fuzzy' : ''})`
  if (!before.search && after.search) return [`+ ${label(after)}: builds the search index`]
  if (before.search && !after.search) return [`- ${label(before)}: drops the search index`]
  if (before.search && after.search && canonical(before.search) !== canonical(after.search))
    return [`~ ${label(before)} → ${label(after)}: rebuilds the search index`]
  return []
}

export function indexLabel(index: Pick<IndexDefinition, 'fields' | 'unique'>): string {
  return `${index.unique ? 'unique index' : 'index'} (${index.fields.join(', ')})`
}

function show(value: unknown): string {
  return value === undefined ? '(none)' : JSON.stringify(value)
}
