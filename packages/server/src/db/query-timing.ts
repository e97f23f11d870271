import type { LogEvent, RootOperationNode } from 'kysely'

/** What one statement was, for counting: a few fixed words, never its text. */
export type QueryOperation = 'select' | 'insert' | 'update' | 'delete' | 'schema' | 'other'

export interface QueryTiming {
  operation: QueryOperation
  /** The SQL as sent, with placeholders where values go: for traces, never for metric labels. */
  statement: string
  durationMs: number
  isFailed: boolean
}

const byNode: Partial<Record<RootOperationNode['kind'], QueryOperation>> = {
  SelectQueryNode: 'select',
  InsertQueryNode: 'insert',
  UpdateQueryNode: 'update',
  DeleteQueryNode: 'delete',
  CreateTableNode: 'schema',
  CreateIndexNode: 'schema',
  CreateViewNode: 'schema',
  DropTableNode: 'schema',
  DropIndexNode: 'schema',
  DropViewNode: 'schema',
  AlterTableNode: 'schema',
}

const RAW_VERB = /^\s*(select|insert|update|delete)\b/i

function operationOf(node: RootOperationNode, text: string): QueryOperation {
  if (node.kind !== 'RawNode') return byNode[node.kind] ?? 'other'
  // Statements written with the sql tag: the verb that starts them, if it is one of the four.
  return (RAW_VERB.exec(text)?.[1]?.toLowerCase() as QueryOperation | undefined) ?? 'other'
}

/**
 * Kysely's `log` for a dialect: hands each statement's duration to whoever listens. The
 * listeners are added after the database opens (the instance's metrics, its traces), so
 * opening stays the same for every command that needs neither.
 */
export class QueryTimings {
  #listeners: ((timing: QueryTiming) => void)[] = []

  listen(listener: (timing: QueryTiming) => void): void {
    this.#listeners.push(listener)
  }

  readonly log = (event: LogEvent): void => {
    if (this.#listeners.length === 0) return
    const timing: QueryTiming = {
      operation: operationOf(event.query.query, event.query.sql),
      statement: event.query.sql,
      durationMs: event.queryDurationMillis,
      isFailed: event.level === 'error',
    }
    for (const listener of this.#listeners) listener(timing)
  }
}
