import { useQuery } from '@tanstack/react-query'
import { useId } from 'react'
import { ApiError } from '../api/problem'
import { collectionsQuery } from '../api/queries'
import type { Webhook } from '../api/types'
import { Field, FormError } from './form'

const ACTIONS = ['create', 'update', 'delete'] as const

export interface WebhookInput {
  url: string
  collections: string[]
  actions: string[]
  filter: string | null
}

/** A group of checkboxes under a legend, with the server's message for the whole list. */
function Choices({
  legend,
  name,
  options,
  chosen,
  error,
}: {
  legend: string
  name: string
  options: readonly string[]
  chosen: string[]
  error: unknown
}) {
  const id = useId()
  const message = error instanceof ApiError ? error.fieldMessage(name) : undefined
  return (
    <fieldset className="field" aria-describedby={message ? `${id}-error` : undefined}>
      <legend>{legend}</legend>
      {options.map((option) => (
        <label key={option} className="choice">
          <input type="checkbox" name={name} value={option} defaultChecked={chosen.includes(option)} />{' '}
          {option}
        </label>
      ))}
      {message && (
        <p className="field-error" id={`${id}-error`}>
          {legend}: {message}
        </p>
      )}
    </fieldset>
  )
}

/**
 * The fields of a webhook, for registering one or changing it. What is sent is exactly what
 * POST or PATCH /api/webhooks take; the server checks it and its errors show beside the fields.
 */
export function WebhookForm({
  label,
  submitLabel,
  webhook,
  error,
  isPending,
  onSubmit,
}: {
  label: string
  submitLabel: string
  webhook?: Webhook
  error: unknown
  isPending: boolean
  onSubmit: (input: WebhookInput) => void
}) {
  const collections = useQuery(collectionsQuery())
  const names = collections.data?.items.map((c) => c.name) ?? []
  return (
    <form
      aria-label={label}
      onSubmit={(event) => {
        event.preventDefault()
        const data = new FormData(event.currentTarget)
        const filter = String(data.get('filter') ?? '').trim()
        onSubmit({
          url: String(data.get('url') ?? ''),
          collections: data.getAll('collections').map(String),
          actions: data.getAll('actions').map(String),
          filter: filter === '' ? null : filter,
        })
      }}
    >
      <Field label="URL" name="url" type="url" required defaultValue={webhook?.url} error={error} />
      {collections.data && (
        <Choices
          legend="Collections"
          name="collections"
          options={names}
          chosen={webhook?.collections ?? []}
          error={error}
        />
      )}
      <Choices
        legend="Actions"
        name="actions"
        options={ACTIONS}
        chosen={webhook?.actions ?? [...ACTIONS]}
        error={error}
      />
      <Field
        label="Filter"
        name="filter"
        defaultValue={webhook?.filter ?? ''}
        hint='Optional: only records that match, e.g. status = "published".'
        error={error}
      />
      <FormError error={error} fields={['url', 'collections', 'actions', 'filter']} />
      <button type="submit" className="primary" disabled={isPending}>
        {submitLabel}
      </button>
    </form>
  )
}
