import { BadRequestError, type FieldErrors, PlinthError, ValidationError } from '../errors/index.js'
import { type CollectionDefinition, isView } from './types.js'
import { viewsReading } from './view-dependencies.js'

/** A view's stored query names its collections: they cannot go or change name under it. */
export function refuseWhileViewsRead(world: CollectionDefinition[], name: string, verb: string): void {
  const views = viewsReading(world, name).map((v) => v.name)
  if (views.length === 0) return
  throw new BadRequestError(
    `The collection is read by the view${views.length > 1 ? 's' : ''} ${views.join(', ')}; it cannot be ${verb} until ${views.length > 1 ? 'they no longer read' : 'it no longer reads'} it.`,
    'validation_failed',
    { name: { code: 'in_use', message: `read by ${views.join(', ')}` } },
  )
}

/** A relation needs a foreign key, and a key cannot point into a SQL view. */
export function refuseRelationsToViews(
  collection: CollectionDefinition,
  world: CollectionDefinition[],
): void {
  if (isView(collection)) return
  const errors: FieldErrors = {}
  collection.fields.forEach((field, index) => {
    const target = field.type === 'relation' ? world.find((c) => c.name === field.collection) : undefined
    if (target && isView(target))
      errors[`fields.${index}.collection`] = {
        code: 'invalid_value',
        message: `${target.name} is a view; relations can only point at base and auth collections`,
      }
  })
  if (Object.keys(errors).length > 0)
    throw new ValidationError(errors, 'The collection definition is invalid.')
}

/** What the database said about a statement, short enough for a problem's detail. */
export function databaseMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  return message.replace(/\s+/g, ' ').slice(0, 300)
}

/** The database refused a view's query (bad syntax, a missing table or column): the caller's 400. */
export function refusedViewQuery(error: unknown): unknown {
  if (error instanceof PlinthError) return error
  return new ValidationError(
    {
      viewQuery: {
        code: 'invalid_view_query',
        message: `the database refused it: ${databaseMessage(error)}`,
      },
    },
    'The view query is invalid.',
  )
}
