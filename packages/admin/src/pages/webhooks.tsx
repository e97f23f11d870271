import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { Link } from '@tanstack/react-router'
import { useState } from 'react'
import { api } from '../api/client'
import { queryKeys, webhooksQuery } from '../api/queries'
import type { Webhook } from '../api/types'
import { CopyButton } from '../components/copy-button'
import { DataTable, When } from '../components/data-table'
import { Field } from '../components/form'
import { PageHeader, QueryView } from '../components/query-view'
import { Empty } from '../components/status'
import { WebhookForm, type WebhookInput } from '../components/webhook-form'

export const circuitLabel: Record<Webhook['circuit']['state'], string> = {
  closed: 'delivering',
  open: 'paused after failures',
  'half-open': 'trying again',
}

/** A pause by hand comes first: whatever the circuit says, nothing is sent until it is resumed. */
export function stateLabel(webhook: Webhook): string {
  const label = webhook.paused ? 'paused by hand' : circuitLabel[webhook.circuit.state]
  return `${label} (${webhook.circuit.failures} failures in a row)`
}

/** The registered webhooks, and a form to register one (its signing secret is shown once). */
export function WebhooksPage() {
  const webhooks = useQuery(webhooksQuery())
  const [isAdding, setAdding] = useState(false)
  return (
    <>
      <PageHeader title="Webhooks">
        <button type="button" aria-expanded={isAdding} onClick={() => setAdding(!isAdding)}>
          Add a webhook
        </button>
      </PageHeader>
      {isAdding && <NewWebhook onDone={() => setAdding(false)} />}
      <QueryView query={webhooks} what="webhooks">
        {({ items }) =>
          items.length === 0 ? (
            <Empty>No webhooks yet.</Empty>
          ) : (
            <DataTable<Webhook>
              caption="Webhooks"
              rows={items}
              columns={[
                {
                  header: 'URL',
                  cell: (w) => (
                    <Link to="/webhooks/$id" params={{ id: w.id }}>
                      {w.url}
                    </Link>
                  ),
                },
                { header: 'Collections', cell: (w) => w.collections.join(', ') },
                { header: 'Actions', cell: (w) => w.actions.join(', ') },
                { header: 'Filter', cell: (w) => (w.filter ? <code>{w.filter}</code> : '–') },
                { header: 'State', cell: stateLabel },
                { header: 'Created', cell: (w) => <When iso={w.created} /> },
              ]}
            />
          )
        }
      </QueryView>
    </>
  )
}

function NewWebhook({ onDone }: { onDone: () => void }) {
  const queryClient = useQueryClient()
  const create = useMutation({
    mutationFn: (input: WebhookInput) =>
      api<Webhook & { secret: string }>('/api/webhooks', { method: 'POST', body: input }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.webhooks }),
  })
  if (create.data)
    return (
      <section className="panel" aria-labelledby="webhook-secret">
        <h2 id="webhook-secret">Webhook added</h2>
        <p>Its signing secret is shown this once. Keep it where the receiver can check signatures with it:</p>
        <Field label="Signing secret" name="secret" className="secret" readOnly value={create.data.secret} />
        <div className="row-actions">
          <CopyButton text={create.data.secret} label="Copy the secret" />
          <button type="button" onClick={onDone}>
            Done
          </button>
        </div>
      </section>
    )
  return (
    <section className="panel" aria-labelledby="new-webhook">
      <h2 id="new-webhook">New webhook</h2>
      <WebhookForm
        label="New webhook"
        submitLabel="Add the webhook"
        error={create.error}
        isPending={create.isPending}
        onSubmit={(input) => create.mutate(input)}
      />
    </section>
  )
}
