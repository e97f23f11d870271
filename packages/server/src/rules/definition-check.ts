import type { CollectionDefinition, RuleChecker } from '../collections/index.js'
import { ruleNames } from '../collections/index.js'
import type { Dialect } from '../db/index.js'
import { type FieldErrors, FilterError, ValidationError } from '../errors/index.js'
import { compileFilter } from '../query/index.js'
import { authFieldNames, authFieldsOf, neverAvailable } from './auth-fields.js'

/**
 * Compiles every rule of a definition once when it is saved, so a rule that names
 * an unknown field or does not parse is refused then, not on the first request.
 * `@request.auth.<field>` must name a field of some auth collection: a typo would
 * otherwise read as null and quietly change who the rule lets in.
 */
export function checkRules(dialect: Dialect): RuleChecker {
  return function checkDefinitionRules(definition, world, previous) {
    if (definition) checkOwnRules(dialect, definition, world)
    checkRulesElsewhere(definition, world, previous)
  }
}

function checkOwnRules(
  dialect: Dialect,
  definition: CollectionDefinition,
  world: readonly CollectionDefinition[],
): void {
  const known = authFieldNames(world)
  const errors: FieldErrors = {}
  for (const rule of ruleNames) {
    const expression = definition[rule]
    if (expression === null || expression.trim() === '') continue
    try {
      compileFilter(expression, {
        dialect,
        collection: definition,
        alias: 'r',
        collections: (name) => world.find((c) => c.name === name),
        canSeeHidden: true,
        now: new Date(),
        request: { auth: null, body: {}, query: {} },
      })
    } catch (error) {
      if (!(error instanceof FilterError)) throw error
      errors[rule] = { code: 'invalid_rule', message: error.message }
      continue
    }
    const unknown = authFieldsOf(expression).find((name) => !known.has(name))
    if (unknown !== undefined) errors[rule] = { code: 'invalid_rule', message: unknownAuthField(unknown) }
  }
  if (Object.keys(errors).length > 0)
    throw new ValidationError(errors, 'A rule of the collection is invalid.')
}

/**
 * A change that drops the last auth field of its name (a field, or a whole auth collection)
 * is refused while a rule of another collection still names it: the rule changes first.
 */
function checkRulesElsewhere(
  definition: CollectionDefinition | null,
  world: readonly CollectionDefinition[],
  previous: readonly CollectionDefinition[],
): void {
  const known = authFieldNames(world)
  const lost = [...authFieldNames(previous)].filter((name) => !known.has(name))
  if (lost.length === 0) return
  const errors: FieldErrors = {}
  for (const collection of world) {
    if (collection.id === definition?.id) continue
    for (const rule of ruleNames) {
      const name = authFieldsOf(collection[rule] ?? '').find((n) => lost.includes(n))
      if (name === undefined) continue
      errors[`${collection.name}.${rule}`] = {
        code: 'invalid_rule',
        message: `names @request.auth.${name}, which no auth collection would have after this change; change the rule first`,
      }
    }
  }
  if (Object.keys(errors).length > 0)
    throw new ValidationError(errors, 'A rule of another collection names an auth field this change removes.')
}

function unknownAuthField(name: string): string {
  return neverAvailable.has(name)
    ? `@request.auth.${name} is never available to rules`
    : `@request.auth.${name} names no field of any auth collection (fields of at least one auth collection, id and collectionName are available)`
}
