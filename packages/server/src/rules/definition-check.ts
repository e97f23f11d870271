import type { CollectionDefinition, RuleChecker } from '../collections/index.js'
import { ruleNames } from '../collections/index.js'
import type { Dialect } from '../db/index.js'
import { type FieldErrors, FilterError, ValidationError } from '../errors/index.js'
import { compileFilter } from '../query/index.js'

/**
 * Compiles every rule of a definition once when it is saved, so a rule that names
 * an unknown field or does not parse is refused then, not on the first request.
 */
export function checkRules(dialect: Dialect): RuleChecker {
  return function checkDefinitionRules(
    definition: CollectionDefinition,
    world: (name: string) => CollectionDefinition | undefined,
  ) {
    const errors: FieldErrors = {}
    for (const rule of ruleNames) {
      const expression = definition[rule]
      if (expression === null || expression.trim() === '') continue
      try {
        compileFilter(expression, {
          dialect,
          collection: definition,
          alias: 'r',
          collections: world,
          canSeeHidden: true,
          now: new Date(),
          request: { auth: null, body: {}, query: {} },
        })
      } catch (error) {
        if (!(error instanceof FilterError)) throw error
        errors[rule] = { code: 'invalid_rule', message: error.message }
      }
    }
    if (Object.keys(errors).length > 0)
      throw new ValidationError(errors, 'A rule of the collection is invalid.')
  }
}
