import { useMutation, useQueryClient } from '@tanstack/react-query'
import { getRouteApi, useNavigate } from '@tanstack/react-router'
import { useState } from 'react'
import { queryKeys } from '../api/queries'
import {
  completeMfa,
  type PasswordSignIn,
  type SecondFactor,
  type Superuser,
  signInWithPasskey,
  signInWithPassword,
} from '../api/session'
import { Field, FormError, formValues } from '../components/form'

const route = getRouteApi('/sign-in')

/** Sign-in of a superuser: a password (then a second factor when one is on), or a passkey. */
export function SignInPage() {
  const { redirect } = route.useSearch()
  const queryClient = useQueryClient()
  const navigate = useNavigate()
  const [mfaId, setMfaId] = useState<string | null>(null)

  const signedIn = async (superuser: Superuser) => {
    queryClient.setQueryData(queryKeys.session, superuser)
    if (redirect) await navigate({ href: redirect, replace: true })
    else await navigate({ to: '/collections', replace: true })
  }

  return (
    <main className="centered">
      <h1>Sign in to Plinth</h1>
      {mfaId ? (
        <SecondFactorForm mfaId={mfaId} onSignedIn={signedIn} onRestart={() => setMfaId(null)} />
      ) : (
        <PasswordForm
          onAnswer={async (answer) => {
            if (answer.kind === 'mfa') setMfaId(answer.mfaId)
            else await signedIn(answer.superuser)
          }}
          onSignedIn={signedIn}
        />
      )}
    </main>
  )
}

function PasswordForm({
  onAnswer,
  onSignedIn,
}: {
  onAnswer: (answer: PasswordSignIn) => Promise<void>
  onSignedIn: (superuser: Superuser) => Promise<void>
}) {
  const password = useMutation({
    mutationFn: (values: Record<string, string>) =>
      signInWithPassword(values.identity ?? '', values.password ?? ''),
    onSuccess: onAnswer,
  })
  const passkey = useMutation({ mutationFn: () => signInWithPasskey(), onSuccess: onSignedIn })
  return (
    <>
      <form
        className="card"
        aria-label="Sign in with a password"
        onSubmit={(event) => {
          event.preventDefault()
          passkey.reset()
          password.mutate(formValues(event.currentTarget))
        }}
      >
        <Field
          label="Email"
          name="identity"
          type="email"
          autoComplete="username"
          required
          error={password.error}
        />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          error={password.error}
        />
        <FormError error={password.error} fields={['identity', 'password']} />
        <button type="submit" className="primary" disabled={password.isPending}>
          {password.isPending ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <div className="card">
        <button
          type="button"
          disabled={passkey.isPending}
          onClick={() => {
            password.reset()
            passkey.mutate()
          }}
        >
          Sign in with a passkey
        </button>
        <FormError error={passkey.error} />
      </div>
    </>
  )
}

function SecondFactorForm({
  mfaId,
  onSignedIn,
  onRestart,
}: {
  mfaId: string
  onSignedIn: (superuser: Superuser) => Promise<void>
  onRestart: () => void
}) {
  const [usesRecoveryCode, setUsesRecoveryCode] = useState(false)
  const code = useMutation({
    mutationFn: (factor: SecondFactor) => completeMfa(mfaId, factor),
    onSuccess: onSignedIn,
  })
  const passkey = useMutation({ mutationFn: () => signInWithPasskey(mfaId), onSuccess: onSignedIn })
  const name = usesRecoveryCode ? 'recoveryCode' : 'code'
  return (
    <>
      <form
        className="card"
        aria-label="Second factor"
        onSubmit={(event) => {
          event.preventDefault()
          passkey.reset()
          const value = formValues(event.currentTarget)[name] ?? ''
          code.mutate(usesRecoveryCode ? { recoveryCode: value } : { code: value })
        }}
      >
        <p>This account has a second factor. Enter the code of your authenticator app, or a recovery code.</p>
        <Field
          key={name}
          label={usesRecoveryCode ? 'Recovery code' : 'Six-digit code'}
          name={name}
          autoComplete="one-time-code"
          inputMode={usesRecoveryCode ? 'text' : 'numeric'}
          required
          error={code.error}
        />
        <FormError error={code.error} fields={[name]} />
        <button type="submit" className="primary" disabled={code.isPending}>
          Continue
        </button>
        <button type="button" onClick={() => setUsesRecoveryCode(!usesRecoveryCode)}>
          {usesRecoveryCode ? 'Use a code from the app instead' : 'Use a recovery code instead'}
        </button>
      </form>
      <div className="card">
        <button type="button" disabled={passkey.isPending} onClick={() => passkey.mutate()}>
          Use a passkey instead
        </button>
        <FormError error={passkey.error} />
        {/* An expired or used-up challenge cannot be answered any more: only a new sign-in helps. */}
        <button type="button" onClick={onRestart}>
          Start again with the password
        </button>
      </div>
    </>
  )
}
