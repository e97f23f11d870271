import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { getRouteApi, Link, useNavigate } from '@tanstack/react-router'
import { useState } from 'react'
import { api } from '../api/client'
import { describeError } from '../api/problem'
import { deliveriesQuery, operationKeys, queryKeys, webhooksQuery } from '../api/queries'
import type { DeliveryState, Webhook, WebhookDelivery } from '../api/types'
import { DataTable, Pager, When } from '../components/data-table'
import { FormError } from '../components/form'
import { PageHeader, QueryView } from '../components/query-view'
import { Empty } from '../components/status'
import { WebhookForm, type WebhookInput } from '../components/webhook-form'
import { stateLabel } from './webhooks'

const route = getRouteApi('/_app/webhooks/$id')
const STATES: DeliveryState[] = ['pending', 'sending', 'failed', 'succeeded', 'dead']

/** One webhook: change or delete it, and read its delivery log, sending any delivery again. */
export function WebhookPage() {
  const { id } = route.useParams()
  const webhooks = useQuery(webhooksQuery())
  return (
    <QueryView query={webhooks} what="the webhook">
      {({ items }) => {
        const webhook = items.find((one) => one.id === id)
        if (!webhook)
          return (
            <>
              <PageHeader title="Webhook not found" />
              <p>
                No webhook has this id; it may have been deleted. <Link to="/webhooks">All webhooks</Link>
              </p>
            </>
          )
        return <WebhookDetails webhook={webhook} />
      }}
    </QueryView>
  )
}

function WebhookDetails({ webhook }: { webhook: Webhook }) {
  const queryClient = useQueryClient()
  const navigate = useNavigate()
  const [isEditing, setEditing] = useState(false)
  const path = `/api/webhooks/${encodeURIComponent(webhook.id)}`
  const update = useMutation({
    mutationFn: (input: WebhookInput) => api<Webhook>(path, { method: 'PATCH', body: input }),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: queryKeys.webhooks })
      setEditing(false)
    },
  })
  const pause = useMutation({
    mutationFn: (paused: boolean) => api<Webhook>(path, { method: 'PATCH', body: { paused } }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.webhooks }),
  })
  const remove = useMutation({
    mutationFn: () => api(path, { method: 'DELETE' }),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: queryKeys.webhooks })
      await navigate({ to: '/webhooks' })
    },
  })
  return (
    <>
      <PageHeader title={`Webhook to ${webhook.url}`}>
        <button type="button" aria-expanded={isEditing} onClick={() => setEditing(!isEditing)}>
          Edit the webhook
        </button>
        <button type="button" disabled={pause.isPending} onClick={() => pause.mutate(!webhook.paused)}>
          {webhook.paused ? 'Resume deliveries' : 'Pause deliveries'}
        </button>
        <button
          type="button"
          disabled={remove.isPending}
          onClick={() => {
            if (window.confirm(`Delete the webhook to ${webhook.url}, with its delivery log?`))
              remove.mutate()
          }}
        >
          Delete the webhook
        </button>
      </PageHeader>
      <FormError error={pause.error ?? remove.error} />
      <dl className="facts">
        <dt>Collections</dt>
        <dd>{webhook.collections.join(', ')}</dd>
        <dt>Actions</dt>
        <dd>{webhook.actions.join(', ')}</dd>
        <dt>Filter</dt>
        <dd>{webhook.filter ? <code>{webhook.filter}</code> : 'none: every change is sent'}</dd>
        <dt>State</dt>
        <dd>
          {stateLabel(webhook)}
          {webhook.circuit.pausedUntil && (
            <>
              , paused until <When iso={webhook.circuit.pausedUntil} />
            </>
          )}
        </dd>
      </dl>
      {isEditing && (
        <section className="panel" aria-labelledby="edit-webhook">
          <h2 id="edit-webhook">Edit the webhook</h2>
          <WebhookForm
            label="Edit the webhook"
            submitLabel="Save the webhook"
            webhook={webhook}
            error={update.error}
            isPending={update.isPending}
            onSubmit={(input) => update.mutate(input)}
          />
        </section>
      )}
      <Deliveries webhookId={webhook.id} isPaused={webhook.paused} />
    </>
  )
}

function Deliveries({ webhookId, isPaused }: { webhookId: string; isPaused: boolean }) {
  const [state, setState] = useState<DeliveryState | ''>('')
  const [page, setPage] = useState(1)
  const deliveries = useQuery({
    ...deliveriesQuery(webhookId, { page, perPage: 50, state: state || undefined }),
    // The log changes on its own as deliveries are attempted.
    refetchInterval: 5_000,
  })
  return (
    <section aria-labelledby="deliveries-heading">
      <h2 id="deliveries-heading">Delivery log</h2>
      <div className="toolbar">
        <div className="field">
          <label htmlFor="delivery-state">State</label>
          <select
            id="delivery-state"
            value={state}
            onChange={(event) => {
              setState(event.target.value as DeliveryState | '')
              setPage(1)
            }}
          >
            <option value="">any</option>
            {STATES.map((one) => (
              <option key={one} value={one}>
                {one}
              </option>
            ))}
          </select>
        </div>
      </div>
      <QueryView query={deliveries} what="deliveries">
        {(list) =>
          list.totalItems === 0 ? (
            <Empty>{state ? 'No deliveries in this state.' : 'Nothing delivered yet.'}</Empty>
          ) : (
            <>
              <DataTable<WebhookDelivery>
                caption="Deliveries"
                rows={list.items}
                columns={[
                  { header: 'Created', cell: (d) => <When iso={d.created} /> },
                  { header: 'Event', cell: (d) => `${d.type} ${d.collection}/${d.recordId}` },
                  { header: 'State', cell: (d) => d.state },
                  { header: 'Attempts', cell: (d) => d.attempts },
                  { header: 'Answer', cell: (d) => d.responseStatus ?? '–' },
                  { header: 'Time', cell: (d) => (d.durationMs === null ? '–' : `${d.durationMs} ms`) },
                  { header: 'Last error', cell: (d) => d.lastError ?? '–' },
                  {
                    header: 'Next attempt',
                    cell: (d) => (isPaused && d.nextAttempt ? 'when resumed' : <When iso={d.nextAttempt} />),
                  },
                  { header: 'Actions', cell: (d) => <SendAgain delivery={d} /> },
                ]}
              />
              <Pager
                label="Deliveries"
                page={list.page}
                totalPages={list.totalPages}
                totalItems={list.totalItems}
                onPage={setPage}
              />
            </>
          )
        }
      </QueryView>
    </section>
  )
}

function SendAgain({ delivery }: { delivery: WebhookDelivery }) {
  const queryClient = useQueryClient()
  const retry = useMutation({
    mutationFn: () =>
      api(
        `/api/webhooks/${encodeURIComponent(delivery.webhookId)}/deliveries/${encodeURIComponent(delivery.id)}/retry`,
        { method: 'POST' },
      ),
    onSuccess: () =>
      queryClient.invalidateQueries({ queryKey: operationKeys.deliveries(delivery.webhookId) }),
  })
  return (
    <div className="row-actions">
      <button
        type="button"
        aria-label={`Send delivery ${delivery.id} again`}
        disabled={retry.isPending}
        onClick={() => retry.mutate()}
      >
        Send again
      </button>
      {retry.error && <span role="alert">{describeError(retry.error)}</span>}
    </div>
  )
}
