import { type UseMutationResult, useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { QRCodeSVG } from 'qrcode.react'
import { useState } from 'react'
import { mfaQuery, queryKeys } from '../api/queries'
import { confirmTotp, proofOf, replaceRecoveryCodes, setUpTotp, turnOffTotp } from '../api/second-factors'
import type { SecondFactor as Proof } from '../api/session'
import type { MfaStatus } from '../api/types'
import { CopyButton } from './copy-button'
import { Field, FormError, formValues } from './form'
import { QueryView } from './query-view'

/**
 * The signed-in superuser's authenticator app (TOTP) and recovery codes: what is on, turning
 * the app on or off, and new recovery codes. Fresh recovery codes are shown once, here.
 */
export function SecondFactor() {
  const mfa = useQuery(mfaQuery())
  const [recoveryCodes, setRecoveryCodes] = useState<string[] | null>(null)
  return (
    <section aria-labelledby="mfa-heading">
      <h2 id="mfa-heading">Second factor</h2>
      <QueryView query={mfa} what="the second factor">
        {(status) => (
          <>
            <Status status={status} />
            {recoveryCodes ? (
              <RecoveryCodes codes={recoveryCodes} onDone={() => setRecoveryCodes(null)} />
            ) : status.totp ? (
              <TotpOn onNewCodes={setRecoveryCodes} />
            ) : (
              <TotpEnrolment onEnrolled={setRecoveryCodes} />
            )}
          </>
        )}
      </QueryView>
    </section>
  )
}

function Status({ status }: { status: MfaStatus }) {
  return (
    <dl className="facts">
      <dt>Authenticator app (TOTP)</dt>
      <dd>{status.totp ? `on, ${status.recoveryCodesLeft} recovery codes left` : 'off'}</dd>
      <dt>Passkeys</dt>
      <dd>{status.passkeys}</dd>
    </dl>
  )
}

/** A new secret, shown as a QR code and as text, then a code of the app to prove it was stored. */
function TotpEnrolment({ onEnrolled }: { onEnrolled: (codes: string[]) => void }) {
  const queryClient = useQueryClient()
  const setup = useMutation({ mutationFn: setUpTotp })
  const confirm = useMutation({
    mutationFn: confirmTotp,
    onSuccess: async (codes) => {
      onEnrolled(codes)
      await queryClient.invalidateQueries({ queryKey: queryKeys.mfa })
    },
  })
  if (!setup.data)
    return (
      <div className="panel">
        <button type="button" disabled={setup.isPending} onClick={() => setup.mutate()}>
          Turn on the authenticator app
        </button>
        <FormError error={setup.error} />
      </div>
    )

  const { secret, otpauthURL } = setup.data
  return (
    <section className="panel" aria-labelledby="totp-setup-heading">
      <h3 id="totp-setup-heading">Turn on the authenticator app</h3>
      <p>
        Scan the QR code with an authenticator app, or type the secret into it. Then enter the six-digit code
        the app shows.
      </p>
      <QRCodeSVG
        value={otpauthURL}
        size={192}
        marginSize={4}
        role="img"
        aria-label="QR code for the authenticator app"
      />
      <Field label="Secret" name="secret" className="secret" readOnly value={secret} />
      <div className="row-actions">
        <CopyButton text={secret} label="Copy the secret" />
      </div>
      <Field label="otpauth URL" name="otpauthURL" className="secret" readOnly value={otpauthURL} />
      <form
        aria-label="Confirm the authenticator app"
        onSubmit={(event) => {
          event.preventDefault()
          confirm.mutate((formValues(event.currentTarget).code ?? '').replace(/\s/g, ''))
        }}
      >
        <Field
          label="Six-digit code"
          name="code"
          inputMode="numeric"
          autoComplete="one-time-code"
          required
          error={confirm.error}
        />
        <FormError error={confirm.error} fields={['code']} />
        <div className="row-actions">
          <button type="submit" className="primary" disabled={confirm.isPending}>
            Turn on
          </button>
          <button
            type="button"
            onClick={() => {
              confirm.reset()
              setup.reset()
            }}
          >
            Cancel
          </button>
        </div>
      </form>
    </section>
  )
}

/** With TOTP on: new recovery codes, or turning it off; both are proven with a code. */
function TotpOn({ onNewCodes }: { onNewCodes: (codes: string[]) => void }) {
  const queryClient = useQueryClient()
  const invalidate = () => queryClient.invalidateQueries({ queryKey: queryKeys.mfa })
  const renew = useMutation({
    mutationFn: replaceRecoveryCodes,
    onSuccess: async (codes) => {
      onNewCodes(codes)
      await invalidate()
    },
  })
  const turnOff = useMutation({ mutationFn: turnOffTotp, onSuccess: invalidate })
  return (
    <>
      <ProofForm
        title="New recovery codes"
        hint="The recovery codes you have now stop working."
        action={renew}
        submit="New recovery codes"
      />
      <ProofForm
        title="Turn off the authenticator app"
        hint="Sign-in then needs only the password, unless a passkey is registered."
        action={turnOff}
        submit="Turn off"
        isDangerous
      />
    </>
  )
}

function ProofForm<T>({
  title,
  hint,
  action,
  submit,
  isDangerous = false,
}: {
  title: string
  hint: string
  action: UseMutationResult<T, Error, Proof>
  submit: string
  isDangerous?: boolean
}) {
  return (
    <form
      className="panel"
      aria-label={title}
      onSubmit={(event) => {
        event.preventDefault()
        action.mutate(proofOf(formValues(event.currentTarget).proof ?? ''))
      }}
    >
      <h3>{title}</h3>
      <p className="hint">{hint}</p>
      <Field
        label="Code from the app, or a recovery code"
        name="proof"
        autoComplete="one-time-code"
        required
        error={action.error}
      />
      <FormError error={action.error} fields={['proof']} />
      <button type="submit" className={isDangerous ? 'danger' : undefined} disabled={action.isPending}>
        {submit}
      </button>
    </form>
  )
}

function RecoveryCodes({ codes, onDone }: { codes: string[]; onDone: () => void }) {
  return (
    <section className="panel" aria-labelledby="recovery-codes-heading">
      <h3 id="recovery-codes-heading">Recovery codes</h3>
      <p>
        Each code signs you in once if the authenticator app is lost. Keep them somewhere safe: they are shown
        only this once.
      </p>
      <ul className="secret" aria-labelledby="recovery-codes-heading">
        {codes.map((code) => (
          <li key={code}>{code}</li>
        ))}
      </ul>
      <div className="row-actions">
        <CopyButton text={codes.join('\n')} label="Copy the recovery codes" />
        <button type="button" onClick={onDone}>
          Done
        </button>
      </div>
    </section>
  )
}
