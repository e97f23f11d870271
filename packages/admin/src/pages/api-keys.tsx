import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useId, useState } from 'react'
import { api } from '../api/client'
import { ApiError } from '../api/problem'
import { apiKeysQuery, collectionsQuery, queryKeys } from '../api/queries'
import type { ApiKey, ApiKeyScope, RecordOperation } from '../api/types'
import { CopyButton } from '../components/copy-button'
import { DataTable, When } from '../components/data-table'
import { Field, FormError } from '../components/form'
import { PageHeader, QueryView } from '../components/query-view'
import { Empty } from '../components/status'

const OPERATIONS: readonly RecordOperation[] = ['list', 'view', 'create', 'update', 'delete']
const EVERY_COLLECTION = '*'

function describeScopes(scopes: ApiKeyScope[]): string {
  return scopes
    .map(
      ({ collection, operations }) =>
        `${collection === EVERY_COLLECTION ? 'every collection' : collection}: ${operations.join(', ')}`,
    )
    .join('; ')
}

/**
 * The signed-in superuser's API keys: what each may do and until when, a form for a new one
 * (its key is shown once) and revoking. A key acts as its owner within its scopes.
 */
export function ApiKeysPage() {
  const keys = useQuery(apiKeysQuery())
  const [isAdding, setAdding] = useState(false)
  return (
    <>
      <PageHeader title="API keys">
        <button type="button" aria-expanded={isAdding} onClick={() => setAdding(!isAdding)}>
          New API key
        </button>
      </PageHeader>
      <p className="hint">
        A key signs scripts and servers in as you, for the collections and operations its scopes name; the
        collections' rules still apply. Keys work on the records API and batch requests only.
      </p>
      {isAdding && <NewApiKey onDone={() => setAdding(false)} />}
      <QueryView query={keys} what="API keys">
        {({ items }) =>
          items.length === 0 ? (
            <Empty>No API keys yet.</Empty>
          ) : (
            <DataTable<ApiKey>
              caption="API keys"
              rows={items}
              columns={[
                { header: 'Name', cell: (key) => key.name },
                { header: 'Prefix', cell: (key) => <code>{key.prefix}</code> },
                { header: 'Scopes', cell: (key) => describeScopes(key.scopes) },
                { header: 'Expires', cell: (key) => <When iso={key.expires} /> },
                { header: 'Last used', cell: (key) => <When iso={key.lastUsed} /> },
                { header: 'Created', cell: (key) => <When iso={key.created} /> },
                { header: 'Revoke', cell: (key) => <RevokeButton apiKey={key} /> },
              ]}
            />
          )
        }
      </QueryView>
    </>
  )
}

function RevokeButton({ apiKey }: { apiKey: ApiKey }) {
  const queryClient = useQueryClient()
  const revoke = useMutation({
    mutationFn: () => api(`/api/auth/api-keys/${encodeURIComponent(apiKey.id)}`, { method: 'DELETE' }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.apiKeys }),
  })
  return (
    <>
      <button
        type="button"
        className="danger"
        disabled={revoke.isPending}
        onClick={() => {
          if (window.confirm(`Revoke the API key ${apiKey.name}? Anything using it stops working at once.`))
            revoke.mutate()
        }}
      >
        Revoke {apiKey.name}
      </button>
      <FormError error={revoke.error} />
    </>
  )
}

interface ScopeDraft {
  key: number
  collection: string
  operations: RecordOperation[]
}

function NewApiKey({ onDone }: { onDone: () => void }) {
  const queryClient = useQueryClient()
  const collections = useQuery(collectionsQuery())
  const [scopes, setScopes] = useState<ScopeDraft[]>([
    { key: 0, collection: '', operations: ['list', 'view'] },
  ])
  const create = useMutation({
    mutationFn: (input: { name: string; expires?: string; scopes: ApiKeyScope[] }) =>
      api<ApiKey & { key: string }>('/api/auth/api-keys', { method: 'POST', body: input }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.apiKeys }),
  })
  if (create.data)
    return (
      <section className="panel" aria-labelledby="api-key-made">
        <h2 id="api-key-made">API key made</h2>
        <p>The key is shown this once; Plinth keeps only its hash. Store it where the script can read it:</p>
        <Field label="API key" name="key" className="secret" readOnly value={create.data.key} />
        <div className="row-actions">
          <CopyButton text={create.data.key} label="Copy the key" />
          <button type="button" onClick={onDone}>
            Done
          </button>
        </div>
      </section>
    )

  const names = (collections.data?.items ?? []).map((collection) => collection.name)
  const change = (key: number, next: Partial<ScopeDraft>) =>
    setScopes(scopes.map((scope) => (scope.key === key ? { ...scope, ...next } : scope)))
  return (
    <section className="panel" aria-labelledby="new-api-key">
      <h2 id="new-api-key">New API key</h2>
      <form
        aria-label="New API key"
        onSubmit={(event) => {
          event.preventDefault()
          const data = new FormData(event.currentTarget)
          const expires = String(data.get('expires') ?? '')
          create.mutate({
            name: String(data.get('name') ?? ''),
            ...(expires ? { expires } : {}),
            scopes: scopes.map(({ collection, operations }) => ({ collection, operations })),
          })
        }}
      >
        <Field label="Name" name="name" required maxLength={100} error={create.error} />
        <Field
          label="Expires"
          name="expires"
          type="date"
          hint="Optional: a year from today when left empty, and at most that."
          error={create.error}
        />
        {scopes.map((scope, index) => (
          <ScopeFields
            key={scope.key}
            index={index}
            scope={scope}
            collections={names}
            error={create.error}
            onChange={(next) => change(scope.key, next)}
            onRemove={
              scopes.length > 1
                ? () => setScopes(scopes.filter((other) => other.key !== scope.key))
                : undefined
            }
          />
        ))}
        <button
          type="button"
          onClick={() =>
            setScopes([
              ...scopes,
              {
                key: Math.max(...scopes.map((scope) => scope.key)) + 1,
                collection: '',
                operations: ['list', 'view'],
              },
            ])
          }
        >
          Add a scope
        </button>
        <FormError
          error={create.error}
          fields={[
            'name',
            'expires',
            ...scopes.flatMap((_, index) => [`scopes.${index}.collection`, `scopes.${index}.operations`]),
          ]}
        />
        <button type="submit" className="primary" disabled={create.isPending}>
          Make the key
        </button>
      </form>
    </section>
  )
}

/** One scope: a collection (or every one) and the operations the key may run on it. */
function ScopeFields({
  index,
  scope,
  collections,
  error,
  onChange,
  onRemove,
}: {
  index: number
  scope: ScopeDraft
  collections: string[]
  error: unknown
  onChange: (next: Partial<ScopeDraft>) => void
  onRemove?: () => void
}) {
  const id = useId()
  const legend = `Scope ${index + 1}`
  const messages = ['collection', 'operations']
    .map((part) => (error instanceof ApiError ? error.fieldMessage(`scopes.${index}.${part}`) : undefined))
    .filter(Boolean)
  return (
    <fieldset className="field" aria-describedby={messages.length > 0 ? `${id}-error` : undefined}>
      <legend>{legend}</legend>
      <label htmlFor={`${id}-collection`}>Collection</label>
      <select
        id={`${id}-collection`}
        required
        value={scope.collection}
        aria-invalid={messages.length > 0 ? true : undefined}
        onChange={(event) => onChange({ collection: event.target.value })}
      >
        <option value="">Choose a collection</option>
        <option value={EVERY_COLLECTION}>every collection</option>
        {collections.map((name) => (
          <option key={name} value={name}>
            {name}
          </option>
        ))}
      </select>
      <fieldset>
        <legend>Operations</legend>
        {OPERATIONS.map((operation) => (
          <label key={operation} className="choice">
            <input
              type="checkbox"
              checked={scope.operations.includes(operation)}
              onChange={(event) =>
                onChange({
                  operations: event.target.checked
                    ? OPERATIONS.filter((op) => op === operation || scope.operations.includes(op))
                    : scope.operations.filter((op) => op !== operation),
                })
              }
            />{' '}
            {operation}
          </label>
        ))}
      </fieldset>
      {onRemove && (
        <button type="button" onClick={onRemove}>
          Remove scope {index + 1}
        </button>
      )}
      {messages.length > 0 && (
        <p className="field-error" id={`${id}-error`}>
          {legend}: {messages.join('; ')}
        </p>
      )}
    </fieldset>
  )
}
