import { PlinthError } from '../errors/index.js'
import { diffDefinitions } from './schema-diff.js'
import type { Json } from './schema-file.js'
import type { CollectionChange, SchemaPlan, SchemaStep } from './schema-plan.js'
import type { CollectionDefinition } from './types.js'

/** Names the step in a service error and turns `fields.3.max` into `fields.title.max`. */
export function explainStepError(step: SchemaStep, error: unknown): unknown {
  if (!(error instanceof PlinthError)) return error
  const sent = 'input' in step && Array.isArray(step.input.fields) ? (step.input.fields as Json[]) : []
  const fields = error.fields
    ? Object.fromEntries(
        Object.entries(error.fields).map(([key, value]) => [
          key.replace(/^fields\.(\d+)/, (whole, i: string) =>
            sent[Number(i)] ? `fields.${sent[Number(i)]!.name}` : whole,
          ),
          value,
        ]),
      )
    : undefined
  const verb =
    step.action === 'update' && 'input' in step && step.input.fields === undefined && step.input.name
      ? 'rename'
      : step.action
  return new PlinthError(
    error.status,
    error.code,
    `Cannot ${verb} collection ${step.collection}: ${error.message}`,
    fields,
  )
}

/**
 * What an import would do, one line per collection with indented details; `No differences.` when none.
 *
 * @example describePlan(plan) // "+ collection posts\n  + field title (text)"
 */
export function describePlan(plan: SchemaPlan): string {
  if (plan.changes.length === 0) return 'No differences.'
  const heads = {
    create: (c: CollectionChange) => `+ collection ${c.name}`,
    update: (c: CollectionChange) =>
      c.previousName ? `~ collection ${c.previousName} → ${c.name} (renamed)` : `~ collection ${c.name}`,
    delete: (c: CollectionChange) => `- collection ${c.name}`,
    untracked: (c: CollectionChange) =>
      `? collection ${c.name} (not in the file; deleted only with --delete-missing)`,
  }
  return plan.changes.flatMap((c) => [heads[c.kind](c), ...c.details.map((d) => `  ${d}`)]).join('\n')
}

/** A change to one collection as `describePlan` lists it: what it becomes, with field- and rule-level lines. */
export function describeChange(
  before: CollectionDefinition | null,
  after: CollectionDefinition | null,
): CollectionChange {
  if (!after) return { kind: 'delete', name: before!.name, details: [] }
  const details = diffDefinitions(before, after)
  if (!before) return { kind: 'create', name: after.name, details }
  return {
    kind: 'update',
    name: after.name,
    ...(before.name !== after.name ? { previousName: before.name } : {}),
    details,
  }
}
