import { BadRequestError, prototypeKeyIn } from '../errors/index.js'
import type { RecordData } from './types.js'

/** A projection: `true` keeps a key whole, a nested object narrows inside it. */
type Projection = { [key: string]: true | Projection }

const MAX_LENGTH = 2048
const ENTRY = /^(\*|[A-Za-z_][A-Za-z0-9_]*)(\.(\*|[A-Za-z_][A-Za-z0-9_]*))*$/

function invalid(message: string): BadRequestError {
  return new BadRequestError(`Invalid fields: ${message}.`, 'invalid_query', {
    fields: { code: 'invalid_fields', message },
  })
}

// Keys come from the client: without a prototype, no key can reach Object.prototype.
function emptyProjection(): Projection {
  return Object.create(null) as Projection
}

/**
 * Parses `fields=id,title,expand.author.name`. Top-level names must be ones the
 * caller can see; nested names are filters over what expand returned.
 */
export function parseFieldsParam(input: string, visible: Set<string>): Projection {
  if (input.length > MAX_LENGTH) throw invalid(`at most ${MAX_LENGTH} characters`)
  const projection = emptyProjection()
  for (const raw of input.split(',')) {
    const entry = raw.trim()
    if (entry === '') continue
    if (!ENTRY.test(entry)) throw invalid(`"${entry}" is not a field path`)
    const parts = entry.split('.')
    const reserved = prototypeKeyIn(parts)
    if (reserved !== undefined) throw invalid(`"${reserved}" is a reserved name`)
    if (parts[0] !== '*' && parts[0] !== 'expand' && !visible.has(parts[0]!))
      throw invalid(`unknown field "${parts[0]}"`)
    let node = projection
    parts.forEach((part, index) => {
      if (index === parts.length - 1) {
        node[part] = true
        return
      }
      const next = Object.hasOwn(node, part) ? node[part] : undefined
      if (next === true) return
      node[part] = next ?? emptyProjection()
      node = node[part] as Projection
    })
  }
  return projection
}

export function applyProjection(record: RecordData, projection: Projection): RecordData {
  if (projection['*'] === true && Object.keys(projection).length === 1) return record
  // A json field's stored keys may be `__proto__`; assigning one to a plain object would replace its prototype.
  const result: RecordData = Object.create(null)
  for (const [key, value] of Object.entries(record)) {
    const rule = Object.hasOwn(projection, key) ? projection[key] : projection['*']
    if (rule === undefined) continue
    if (rule === true || value === null || typeof value !== 'object') result[key] = value
    else if (Array.isArray(value))
      result[key] = value.map((item) =>
        typeof item === 'object' && item ? applyProjection(item as RecordData, rule) : item,
      )
    else result[key] = applyProjection(value as RecordData, rule)
  }
  return result
}

export type { Projection }
