import { useMutation, useQuery } from '@tanstack/react-query'
import { useState } from 'react'
import { api } from '../api/client'
import { settingsQuery } from '../api/queries'
import { Field, FormError } from './form'
import { QueryView } from './query-view'

const TEMPLATES = [
  ['', 'a plain test mail'],
  ['verification', 'the verification template'],
  ['passwordReset', 'the password-reset template'],
  ['emailChange', 'the email-change template'],
  ['otp', 'the one-time code template'],
] as const

const isSecret = (value: unknown): value is { isSet: boolean } =>
  typeof value === 'object' && value !== null && Object.keys(value).length === 1 && 'isSet' in value

/** A setting's value as text; a secret only says whether it is set. */
function settingText(value: unknown): string {
  if (isSecret(value)) return value.isSet ? 'set (hidden)' : 'not set'
  if (value === null || value === undefined || value === '') return '–'
  if (typeof value === 'object') return JSON.stringify(value)
  return String(value)
}

const isGroup = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !isSecret(value)

/** One group of settings; nested groups are flattened into dotted names. */
function entries(group: unknown, prefix = ''): [string, unknown][] {
  if (!isGroup(group)) return [[prefix.replace(/\.$/, '') || 'value', group]]
  return Object.entries(group).flatMap(([key, value]) =>
    isGroup(value) ? entries(value, `${prefix}${key}.`) : [[`${prefix}${key}`, value] as [string, unknown]],
  )
}

/** The configuration in effect on the node that answers (it changes only with a restart). */
export function EffectiveSettings() {
  const settings = useQuery(settingsQuery())
  return (
    <section aria-labelledby="config-heading">
      <h2 id="config-heading">Configuration</h2>
      <p>
        What this node runs with, from its environment and flags; it changes with a restart. Secrets show only
        whether they are set.
      </p>
      <QueryView query={settings} what="the configuration">
        {(groups) =>
          Object.entries(groups).map(([name, group]) => (
            <details key={name} className="settings-group">
              <summary>{name}</summary>
              <dl className="facts">
                {entries(group).map(([key, value]) => (
                  <div key={key} className="fact">
                    <dt>
                      <code>{key}</code>
                    </dt>
                    <dd>{settingText(value)}</dd>
                  </div>
                ))}
              </dl>
            </details>
          ))
        }
      </QueryView>
    </section>
  )
}

/** Sends a test mail through the configured mail server at once, and says what it answered. */
export function TestMail() {
  const [sentTo, setSentTo] = useState<string | null>(null)
  const send = useMutation({
    mutationFn: (input: { email: string; template?: string }) =>
      api('/api/settings/test/email', { method: 'POST', body: input }),
    onSuccess: (_, input) => setSentTo(input.email),
  })
  return (
    <section aria-labelledby="test-mail-heading">
      <h2 id="test-mail-heading">Test mail</h2>
      <form
        aria-label="Send a test mail"
        onSubmit={(event) => {
          event.preventDefault()
          const data = new FormData(event.currentTarget)
          const template = String(data.get('template') ?? '')
          setSentTo(null)
          send.mutate({ email: String(data.get('email') ?? ''), ...(template ? { template } : {}) })
        }}
      >
        <Field label="To" name="email" type="email" required error={send.error} />
        <div className="field">
          <label htmlFor="test-mail-template">Mail</label>
          <select id="test-mail-template" name="template">
            {TEMPLATES.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <FormError error={send.error} fields={['email']} />
        {sentTo && <p role="status">The mail server took the test mail to {sentTo}.</p>}
        <button type="submit" disabled={send.isPending}>
          Send a test mail
        </button>
      </form>
    </section>
  )
}
