import { useQuery } from '@tanstack/react-query'
import { webhooksQuery } from '../api/queries'
import type { Webhook } from '../api/types'
import { DataTable, When } from '../components/data-table'
import { PageHeader, QueryView } from '../components/query-view'
import { Empty } from '../components/status'

const circuitLabel: Record<Webhook['circuit']['state'], string> = {
  closed: 'delivering',
  open: 'paused after failures',
  'half-open': 'trying again',
}

export function WebhooksPage() {
  const webhooks = useQuery(webhooksQuery())
  return (
    <>
      <PageHeader title="Webhooks" />
      <QueryView query={webhooks} what="webhooks">
        {({ items }) =>
          items.length === 0 ? (
            <Empty>No webhooks yet. Register one with POST /api/webhooks.</Empty>
          ) : (
            <DataTable<Webhook>
              caption="Webhooks"
              rows={items}
              columns={[
                { header: 'URL', cell: (w) => w.url },
                { header: 'Collections', cell: (w) => w.collections.join(', ') },
                { header: 'Actions', cell: (w) => w.actions.join(', ') },
                { header: 'Filter', cell: (w) => (w.filter ? <code>{w.filter}</code> : '–') },
                {
                  header: 'State',
                  cell: (w) => `${circuitLabel[w.circuit.state]} (${w.circuit.failures} failures in a row)`,
                },
                { header: 'Created', cell: (w) => <When iso={w.created} /> },
              ]}
            />
          )
        }
      </QueryView>
    </>
  )
}
