import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { passkeysQuery, queryKeys } from '../api/queries'
import { addPasskey, removePasskey } from '../api/second-factors'
import type { Passkey } from '../api/types'
import { DataTable, When } from './data-table'
import { Field, FormError, formValues } from './form'
import { QueryView } from './query-view'
import { Empty } from './status'

function useInvalidatePasskeys() {
  const queryClient = useQueryClient()
  // The second factor's summary counts passkeys too.
  return () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: queryKeys.passkeys }),
      queryClient.invalidateQueries({ queryKey: queryKeys.mfa }),
    ])
}

/** The signed-in superuser's passkeys: the list, adding one with this browser, and removing. */
export function Passkeys() {
  const passkeys = useQuery(passkeysQuery())
  return (
    <section aria-labelledby="passkeys-heading">
      <h2 id="passkeys-heading">Passkeys</h2>
      <QueryView query={passkeys} what="passkeys">
        {({ items }) =>
          items.length === 0 ? (
            <Empty>No passkeys registered.</Empty>
          ) : (
            <DataTable<Passkey>
              caption="Passkeys"
              rows={items}
              columns={[
                { header: 'Name', cell: (p) => p.name },
                { header: 'Added', cell: (p) => <When iso={p.created} /> },
                { header: 'Last used', cell: (p) => <When iso={p.lastUsed} /> },
                { header: 'Remove', cell: (p) => <RemoveButton passkey={p} /> },
              ]}
            />
          )
        }
      </QueryView>
      <AddPasskey />
    </section>
  )
}

function AddPasskey() {
  const invalidate = useInvalidatePasskeys()
  const add = useMutation({ mutationFn: addPasskey, onSuccess: invalidate })
  return (
    <form
      className="panel"
      aria-label="Add a passkey"
      onSubmit={(event) => {
        event.preventDefault()
        const form = event.currentTarget
        add.mutate(formValues(form).name ?? '', { onSuccess: () => form.reset() })
      }}
    >
      <Field
        label="Passkey name"
        name="name"
        required
        maxLength={100}
        hint="Which device or security key it is, such as “Work laptop”. The browser asks for the passkey next."
        error={add.error}
      />
      <FormError error={add.error} fields={['name']} />
      <button type="submit" disabled={add.isPending}>
        Add a passkey
      </button>
      <p role="status">{add.isSuccess && `Added the passkey ${add.data.name}.`}</p>
    </form>
  )
}

function RemoveButton({ passkey }: { passkey: Passkey }) {
  const invalidate = useInvalidatePasskeys()
  const remove = useMutation({ mutationFn: () => removePasskey(passkey.id), onSuccess: invalidate })
  return (
    <>
      <button
        type="button"
        className="danger"
        disabled={remove.isPending}
        onClick={() => {
          if (window.confirm(`Remove the passkey ${passkey.name}? It will no longer sign you in.`))
            remove.mutate()
        }}
      >
        Remove {passkey.name}
      </button>
      <FormError error={remove.error} />
    </>
  )
}
