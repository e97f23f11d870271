import { canonical, isBuiltIn, type Json } from './schema-file.js'
import { type CollectionDefinition, type CollectionType, type IndexDefinition, ruleNames } from './types.js'

// A new collection is described as additions to an empty one of its type.
function emptyDefinition(type: CollectionType): CollectionDefinition {
  return {
    id: '',
    name: '',
    type,
    system: false,
    fields: [],
    indexes: [],
    listRule: null,
    viewRule: null,
    createRule: null,
    updateRule: null,
    deleteRule: null,
    options: {},
    created: '',
    updated: '',
  }
}

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
  return lines
}

export function indexLabel(index: Pick<IndexDefinition, 'fields' | 'unique'>): string {
  return `${index.unique ? 'unique index' : 'index'} (${index.fields.join(', ')})`
}

function show(value: unknown): string {
  return value === undefined ? '(none)' : JSON.stringify(value)
}
