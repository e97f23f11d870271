import {
  type CollectionDefinition,
  type RuleChecker,
  type RuleName,
  ruleNames,
} from '../collections/index.js'
import { ValidationError } from '../errors/index.js'
import type { ImportNote } from './import-report.js'
import type { PocketBaseCollection } from './pocketbase-data.js'
import { translateRule } from './pocketbase-rules.js'

export type Rules = Record<RuleName, string | null>

const SUPERUSERS_ONLY = 'imported as null (superusers only)'

/** Why Plinth refuses `rule` as a rule of `definition` among `world`, or null when it takes it. */
function refusal(
  check: RuleChecker,
  definition: CollectionDefinition,
  world: readonly CollectionDefinition[],
  rule: string,
): string | null {
  const probe = {
    ...definition,
    ...Object.fromEntries(ruleNames.map((name) => [name, null])),
    listRule: rule,
  }
  try {
    check(probe, world, world)
    return null
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error
    return error.fields?.listRule?.message ?? error.message
  }
}

/**
 * The five rules of a PocketBase collection in Plinth's filter language, each checked as
 * Plinth checks a rule when a collection is saved. A rule that cannot be translated, or
 * whose translation Plinth refuses, becomes null (superusers only) and is noted by name:
 * closing a rule can lock users out, opening one could expose records.
 */
export function translateCollectionRules(
  source: PocketBaseCollection,
  definition: CollectionDefinition,
  world: readonly CollectionDefinition[],
  check: RuleChecker,
  collectionNames: ReadonlyMap<string, string>,
  notes: ImportNote[],
): Rules {
  const context = {
    collectionName: (id: string) => collectionNames.get(id),
    holdsText: (operand: string) => refusal(check, definition, world, `${operand} = ""`) === null,
  }
  const rules = Object.fromEntries(ruleNames.map((name) => [name, null])) as Rules
  for (const name of ruleNames) {
    const original = source[name]
    if (original === null) continue
    const subject = `${source.name}.${name}`
    if (definition.type === 'view' && name !== 'listRule' && name !== 'viewRule') continue
    const translation = translateRule(original, context)
    if ('problem' in translation) {
      notes.push({
        subject,
        problem: `${JSON.stringify(original)}: ${translation.problem}; ${SUPERUSERS_ONLY}`,
      })
      continue
    }
    const refused = translation.rule === '' ? null : refusal(check, definition, world, translation.rule)
    if (refused !== null) {
      notes.push({
        subject,
        problem: `${JSON.stringify(original)}, as ${JSON.stringify(translation.rule)}: ${refused}; ${SUPERUSERS_ONLY}`,
      })
      continue
    }
    rules[name] = translation.rule
  }
  return rules
}
