import { useMutation, useQueryClient } from '@tanstack/react-query'
import { Link, useNavigate } from '@tanstack/react-router'
import { useState } from 'react'
import { queryKeys } from '../api/queries'
import { completeSetup } from '../api/session'
import { Field, FormError, formValues } from '../components/form'

const FIELDS = ['email', 'password', 'passwordConfirm']

/**
 * The first run: the link the server prints carries a one-time token in its fragment
 * (never sent to a server, so it stays out of logs). The superuser made here is signed in.
 */
export function SetupPage() {
  const [token] = useState(() => new URLSearchParams(window.location.hash.slice(1)).get('token') ?? '')
  const queryClient = useQueryClient()
  const navigate = useNavigate()
  const setup = useMutation({
    mutationFn: (values: Record<string, string>) =>
      completeSetup({
        token,
        email: values.email ?? '',
        password: values.password ?? '',
        passwordConfirm: values.passwordConfirm ?? '',
      }),
    onSuccess: async (superuser) => {
      queryClient.setQueryData(queryKeys.session, superuser)
      await navigate({ to: '/collections', replace: true })
    },
  })

  return (
    <main className="centered">
      <h1>Create the first superuser</h1>
      {token ? (
        <>
          <p>This link works once. The superuser manages collections, users and every record.</p>
          <form
            className="card"
            aria-label="Create the first superuser"
            onSubmit={(event) => {
              event.preventDefault()
              setup.mutate(formValues(event.currentTarget))
            }}
          >
            <Field
              label="Email"
              name="email"
              type="email"
              autoComplete="username"
              required
              error={setup.error}
            />
            <Field
              label="Password"
              name="password"
              type="password"
              autoComplete="new-password"
              required
              hint="At least 8 characters."
              error={setup.error}
            />
            <Field
              label="Repeat the password"
              name="passwordConfirm"
              type="password"
              autoComplete="new-password"
              required
              error={setup.error}
            />
            <FormError error={setup.error} fields={FIELDS} />
            <button type="submit" className="primary" disabled={setup.isPending}>
              {setup.isPending ? 'Creating the superuser…' : 'Create superuser'}
            </button>
          </form>
        </>
      ) : (
        <p role="alert">
          This page needs the one-time setup link that the server prints in its log when no superuser exists.
          If a superuser exists already, <Link to="/sign-in">sign in</Link>.
        </p>
      )}
    </main>
  )
}
