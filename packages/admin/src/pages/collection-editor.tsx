import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { getRouteApi, Link, useNavigate } from '@tanstack/react-router'
import { type FormEvent, useEffect, useRef, useState } from 'react'
import { api } from '../api/client'
import { ApiError } from '../api/problem'
import { collectionsQuery, queryKeys } from '../api/queries'
import type { CollectionModel, IndexDefinition, SearchOptions } from '../api/types'
import { OPTION_PATHS, type Options, OptionsEditor } from '../components/auth-options'
import { IndexesEditor, SearchEditor } from '../components/collection-options'
import { definitionOf, draftOf, type FieldDraft, FieldEditor, fieldTypes } from '../components/field-editor'
import { Field, FormError } from '../components/form'
import { type MigrationPreview, MigrationPreviewView } from '../components/migration-preview'
import { OAuth2Providers } from '../components/oauth2-providers'
import { PageHeader, QueryView } from '../components/query-view'
import { type Rules, RulesEditor, ruleNames } from '../components/rules-editor'
import { Empty } from '../components/status'

const editRoute = getRouteApi('/_app/collections/$name/edit')

type CollectionType = CollectionModel['type']

/** Everything the form edits; what is sent is built from it on save. */
interface Draft {
  name: string
  type: CollectionType
  viewQuery: string
  fields: FieldDraft[]
  rules: Rules
  indexes: IndexDefinition[]
  search: SearchOptions | null
  options: Options
  /**
   * Indexes, search and options follow renames on the server when left out, so they go only
   * once touched; options then go whole, as a PATCH replaces them.
   */
  touched: { indexes: boolean; search: boolean; options: boolean }
}

function draftFrom(collection?: CollectionModel): Draft {
  return {
    name: collection?.name ?? '',
    type: collection?.type ?? 'base',
    viewQuery: collection?.viewQuery ?? '',
    fields: (collection?.fields ?? []).filter((field) => !field.system).map(draftOf),
    rules: Object.fromEntries(ruleNames.map((rule) => [rule, collection ? collection[rule] : null])) as Rules,
    indexes: collection?.indexes ?? [],
    search: collection?.search ?? null,
    options: collection?.options ?? {},
    touched: { indexes: false, search: false, options: false },
  }
}

function bodyOf(draft: Draft, creating: boolean): Record<string, unknown> {
  const view = draft.type === 'view'
  const body: Record<string, unknown> = { name: draft.name, ...draft.rules }
  if (creating) body.type = draft.type
  if (view) body.viewQuery = draft.viewQuery
  else body.fields = draft.fields.map(definitionOf)
  if (!view && (creating || draft.touched.indexes))
    body.indexes = draft.indexes.map((index) => ({ ...index, fields: index.fields.filter(Boolean) }))
  if (!view && (creating ? draft.search !== null : draft.touched.search))
    body.search = draft.search && { ...draft.search, fields: draft.search.fields.filter(Boolean) }
  if (!view && draft.touched.options) body.options = draft.options
  return body
}

/** The fields every new record has, offered by the rules' completion before the first save. */
const newSystemFields = ['id', 'created', 'updated'].map((name) => ({
  name,
  type: name === 'id' ? 'text' : 'autodate',
}))

/** Whether the form shows an error of this name beside its control (the rest go in FormError). */
const shownBeside = (draft: Draft) => (key: string) => {
  if (['name', 'type', 'viewQuery', ...ruleNames].includes(key)) return true
  if (/^(indexes\.\d+(\.fields)?|search(\.fields|\.language)?)$/.test(key)) return true
  if (draft.type !== 'view' && OPTION_PATHS.test(key)) return true
  const [, index, option] = /^fields\.(\d+)(?:\.(\w+))?$/.exec(key) ?? []
  const field = index === undefined ? undefined : draft.fields[Number(index)]
  if (!field) return false
  return (
    option === undefined ||
    ['name', 'type'].includes(option) ||
    (fieldTypes[field.type] ?? []).some((o) => o.name === option)
  )
}

export function NewCollectionPage() {
  const collections = useQuery(collectionsQuery())
  return (
    <>
      <PageHeader title="New collection" />
      <QueryView query={collections} what="collections">
        {({ items }) => <CollectionForm all={items} />}
      </QueryView>
    </>
  )
}

export function EditCollectionPage() {
  const { name } = editRoute.useParams()
  const collections = useQuery(collectionsQuery())
  return (
    <>
      <PageHeader title={`Collection ${name}`}>
        <Link to="/collections/$name/records" params={{ name }}>
          Records
        </Link>
      </PageHeader>
      <QueryView query={collections} what="the collection">
        {({ items }) => {
          const collection = items.find((c) => c.name === name)
          if (!collection) return <Empty>{`There is no collection named ${name}.`}</Empty>
          return (
            <>
              <CollectionForm key={collection.id} all={items} collection={collection} />
              {collection.type === 'auth' && !collection.system && (
                <OAuth2Providers collection={collection.name} />
              )}
            </>
          )
        }}
      </QueryView>
    </>
  )
}

function CollectionForm({ all, collection }: { all: CollectionModel[]; collection?: CollectionModel }) {
  const queryClient = useQueryClient()
  const navigate = useNavigate()
  const creating = collection === undefined
  const [draft, setDraft] = useState(() => draftFrom(collection))
  const [status, setStatus] = useState('')
  const [preview, setPreview] = useState<MigrationPreview>()
  const change = (patch: Partial<Draft>) => {
    setStatus('')
    setPreview(undefined)
    setDraft((current) => ({ ...current, ...patch }))
  }

  const path = creating ? '/api/collections' : `/api/collections/${encodeURIComponent(collection.name)}`
  // One mutation for both, so the errors shown are always those of the last answer.
  const save = useMutation({
    mutationFn: (dryRun: boolean) =>
      api<CollectionModel | MigrationPreview>(path, {
        method: creating ? 'POST' : 'PATCH',
        body: bodyOf(draft, creating),
        ...(dryRun ? { query: { dryRun: '1' } } : {}),
      }),
    onSuccess: async (result, dryRun) => {
      if (dryRun) {
        setPreview(result as MigrationPreview)
        return
      }
      const saved = result as CollectionModel
      // The answer gives new fields their ids: without them a later rename would be a drop and an add.
      setDraft(draftFrom(saved))
      await queryClient.invalidateQueries({ queryKey: queryKeys.collections })
      setStatus('Saved.')
      if (creating || saved.name !== collection.name)
        await navigate({ to: '/collections/$name/edit', params: { name: saved.name } })
    },
  })

  const submit = (event: FormEvent) => {
    event.preventDefault()
    setPreview(undefined)
    save.mutate(false)
  }

  const view = draft.type === 'view'
  const own = {
    name: draft.name,
    fields: [...(collection?.fields.filter((f) => f.system) ?? newSystemFields), ...draft.fields],
  }
  const schema = { collection: own, collections: all }
  const formFields =
    save.error instanceof ApiError ? Object.keys(save.error.fieldErrors).filter(shownBeside(draft)) : []

  return (
    <>
      <form className="collection-form" onSubmit={submit} noValidate>
        <div className="collection-head">
          <Field
            label="Name"
            name="name"
            value={draft.name}
            required
            autoComplete="off"
            error={save.error}
            onChange={(event) => change({ name: event.target.value })}
          />
          <div className="field">
            <label htmlFor="collection-type">Type</label>
            <select
              id="collection-type"
              value={draft.type}
              disabled={!creating}
              onChange={(event) => change({ type: event.target.value as CollectionType })}
            >
              <option value="base">base</option>
              <option value="auth">auth (users who sign in)</option>
              <option value="view">view (read-only SQL query)</option>
            </select>
          </div>
        </div>
        {view ? (
          <ViewQuery draft={draft} change={change} error={save.error} />
        ) : (
          <>
            <FieldEditor
              fields={draft.fields}
              onChange={(fields) => change({ fields })}
              collections={all}
              error={save.error}
            />
            <IndexesEditor
              indexes={draft.indexes}
              onChange={(indexes) => change({ indexes, touched: { ...draft.touched, indexes: true } })}
              error={save.error}
            />
            <SearchEditor
              search={draft.search}
              onChange={(search) => change({ search, touched: { ...draft.touched, search: true } })}
              error={save.error}
            />
            <OptionsEditor
              type={draft.type}
              options={draft.options}
              onChange={(options) => change({ options, touched: { ...draft.touched, options: true } })}
              error={save.error}
            />
          </>
        )}
        <RulesEditor
          rules={draft.rules}
          onChange={(rules) => change({ rules })}
          schema={schema}
          error={save.error}
          readOnly={view ? ['createRule', 'updateRule', 'deleteRule'] : []}
        />
        <FormError error={save.error} fields={formFields} />
        <div className="form-actions">
          <button type="submit" className="primary" disabled={save.isPending}>
            {creating ? 'Create collection' : 'Save changes'}
          </button>
          <button type="button" disabled={save.isPending} onClick={() => save.mutate(true)}>
            Check and preview
          </button>
          <p role="status">{save.isPending ? '' : preview ? 'The server accepts this change.' : status}</p>
        </div>
      </form>
      {preview && <MigrationPreviewView preview={preview} title="Migration preview" />}
      {collection && !collection.system && <DeleteCollection name={collection.name} />}
    </>
  )
}

function ViewQuery({
  draft,
  change,
  error,
}: {
  draft: Draft
  change: (patch: Partial<Draft>) => void
  error: unknown
}) {
  const message = error instanceof ApiError ? error.fieldMessage('viewQuery') : undefined
  return (
    <div className="field">
      <label htmlFor="view-query">View query</label>
      <textarea
        id="view-query"
        rows={5}
        spellCheck={false}
        value={draft.viewQuery}
        aria-invalid={message ? true : undefined}
        aria-describedby={`view-query-hint${message ? ' view-query-error' : ''}`}
        onChange={(event) => change({ viewQuery: event.target.value })}
      />
      <p className="hint" id="view-query-hint">
        One SELECT returning an id column; the fields are inferred from its columns.
      </p>
      {message && (
        <p className="field-error" id="view-query-error">
          View query: {message}
        </p>
      )}
    </div>
  )
}

function DeleteCollection({ name }: { name: string }) {
  const queryClient = useQueryClient()
  const navigate = useNavigate()
  const [confirming, setConfirming] = useState(false)
  const cancel = useRef<HTMLButtonElement>(null)
  // The question takes the focus from the button that asked it, on the safe answer.
  useEffect(() => {
    if (confirming) cancel.current?.focus()
  }, [confirming])
  const remove = useMutation({
    mutationFn: () => api(`/api/collections/${encodeURIComponent(name)}`, { method: 'DELETE' }),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: queryKeys.collections })
      await navigate({ to: '/collections' })
    },
  })
  return (
    <section aria-labelledby="delete-heading" className="danger-zone">
      <h2 id="delete-heading">Delete</h2>
      {confirming ? (
        <div role="alertdialog" aria-labelledby="delete-question">
          <p id="delete-question">
            Delete the collection {name} and all its records? This cannot be undone from here.
          </p>
          <button
            type="button"
            className="danger"
            disabled={remove.isPending}
            onClick={() => remove.mutate()}
          >
            Yes, delete {name}
          </button>{' '}
          <button type="button" ref={cancel} onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </div>
      ) : (
        <button type="button" className="danger" onClick={() => setConfirming(true)}>
          Delete collection
        </button>
      )}
      <FormError error={remove.error} />
    </section>
  )
}
