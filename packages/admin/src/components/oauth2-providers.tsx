import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useId, useState } from 'react'
import { api } from '../api/client'
import { oauth2SettingsQuery, queryKeys } from '../api/queries'
import type { KnownProvider, OAuth2Settings } from '../api/types'
import { Field, FormError, TextAreaField } from './form'
import { QueryView } from './query-view'

/** One provider as the form holds it; an empty secret keeps the stored one. */
interface ProviderDraft {
  key: number
  name: string
  clientId: string
  clientSecret: string
  clientSecretSet: boolean
  issuer: string
  displayName: string
  scopes: string
  redirectURLs: string
}

const GENERIC = 'oidc'
/** Scopes and redirect URLs hold no whitespace, so any of it (a space, a new line) separates them. */
const words = (text: string) => text.split(/\s+/).filter(Boolean)

/** The preset a configured name stands for: `oidc-<label>` is another generic provider. */
function presetOf(known: KnownProvider[], name: string): KnownProvider | undefined {
  return known.find((preset) => preset.name === (name.startsWith(`${GENERIC}-`) ? GENERIC : name))
}

function draftsFrom(settings: OAuth2Settings): ProviderDraft[] {
  return settings.providers.map((provider, key) => ({
    key,
    name: provider.name,
    clientId: provider.clientId,
    clientSecret: '',
    clientSecretSet: provider.clientSecretSet,
    issuer: provider.issuer ?? '',
    displayName: provider.displayName ?? '',
    scopes: (provider.scopes ?? []).join(' '),
    redirectURLs: provider.redirectURLs.join('\n'),
  }))
}

/** What PUT takes: the complete list, optional values left out rather than sent empty. */
function bodyOf(enabled: boolean, drafts: ProviderDraft[]) {
  return {
    enabled,
    providers: drafts.map((draft) => ({
      name: draft.name,
      clientId: draft.clientId,
      ...(draft.clientSecret ? { clientSecret: draft.clientSecret } : {}),
      ...(draft.issuer.trim() ? { issuer: draft.issuer.trim() } : {}),
      ...(draft.displayName.trim() ? { displayName: draft.displayName.trim() } : {}),
      ...(draft.scopes.trim() ? { scopes: words(draft.scopes) } : {}),
      redirectURLs: words(draft.redirectURLs),
    })),
  }
}

/**
 * Sign-in with OAuth2 and OpenID Connect providers for one auth collection. The settings
 * have their own endpoint (secrets never travel with the schema), so they save on their own.
 */
export function OAuth2Providers({ collection }: { collection: string }) {
  const settings = useQuery(oauth2SettingsQuery(collection))
  return (
    <section aria-labelledby="oauth2-heading">
      <h2 id="oauth2-heading">OAuth2 and OpenID Connect</h2>
      <QueryView query={settings} what="the OAuth2 settings">
        {(data) => <ProvidersForm collection={collection} settings={data} />}
      </QueryView>
    </section>
  )
}

function ProvidersForm({ collection, settings }: { collection: string; settings: OAuth2Settings }) {
  const queryClient = useQueryClient()
  const [enabled, setEnabled] = useState(settings.enabled)
  const [drafts, setDrafts] = useState(() => draftsFrom(settings))
  const [adding, setAdding] = useState(settings.known[0]?.name ?? GENERIC)
  const save = useMutation({
    mutationFn: () =>
      api<OAuth2Settings>(`/api/collections/${encodeURIComponent(collection)}/oauth2-providers`, {
        method: 'PUT',
        body: bodyOf(enabled, drafts),
      }),
    onSuccess: (saved) => {
      queryClient.setQueryData(queryKeys.oauth2(collection), saved)
      // Stored secrets now show as set, and the typed ones leave the page.
      setDrafts(draftsFrom(saved))
    },
  })
  const change = (key: number, patch: Partial<ProviderDraft>) =>
    setDrafts(drafts.map((draft) => (draft.key === key ? { ...draft, ...patch } : draft)))
  const add = () => {
    const taken = new Set(drafts.map((draft) => draft.name))
    let name = adding
    // A second generic provider needs a name of its own; the admin may change the label.
    for (let n = 2; taken.has(name); n++) name = `${adding}-${n}`
    setDrafts([
      ...drafts,
      {
        key: Math.max(-1, ...drafts.map((draft) => draft.key)) + 1,
        name,
        clientId: '',
        clientSecret: '',
        clientSecretSet: false,
        issuer: '',
        displayName: '',
        scopes: '',
        redirectURLs: '',
      },
    ])
  }
  const fields = drafts.flatMap((draft, index) =>
    ['name', 'clientId', 'clientSecret', 'issuer', 'displayName', 'scopes', 'redirectURLs']
      .map((field) => `providers.${index}.${field}`)
      .concat(words(draft.redirectURLs).map((_, i) => `providers.${index}.redirectURLs.${i}`)),
  )
  return (
    <form
      aria-label="OAuth2 providers"
      onSubmit={(event) => {
        event.preventDefault()
        save.mutate()
      }}
    >
      <label className="check">
        <input type="checkbox" checked={enabled} onChange={(event) => setEnabled(event.target.checked)} /> Let
        people sign in with these providers
      </label>
      {drafts.map((draft, index) => (
        <ProviderFields
          key={draft.key}
          index={index}
          draft={draft}
          preset={presetOf(settings.known, draft.name)}
          error={save.error}
          onChange={(patch) => change(draft.key, patch)}
          onRemove={() => setDrafts(drafts.filter((other) => other.key !== draft.key))}
        />
      ))}
      <div className="row-actions">
        <label htmlFor="oauth2-add">Provider to add</label>
        <select id="oauth2-add" value={adding} onChange={(event) => setAdding(event.target.value)}>
          {settings.known.map((preset) => (
            <option key={preset.name} value={preset.name}>
              {preset.name === GENERIC ? 'Another OpenID Connect provider' : preset.displayName}
            </option>
          ))}
        </select>
        <button type="button" onClick={add}>
          Add the provider
        </button>
      </div>
      <FormError error={save.error} fields={fields} />
      <div className="form-actions">
        <button type="submit" className="primary" disabled={save.isPending}>
          Save the providers
        </button>
        <p role="status">{save.isSuccess ? 'The providers are saved.' : ''}</p>
      </div>
    </form>
  )
}

function ProviderFields({
  index,
  draft,
  preset,
  error,
  onChange,
  onRemove,
}: {
  index: number
  draft: ProviderDraft
  preset: KnownProvider | undefined
  error: unknown
  onChange: (patch: Partial<ProviderDraft>) => void
  onRemove: () => void
}) {
  const id = useId()
  const title = preset && preset.name !== GENERIC ? preset.displayName : draft.name
  const at = (field: string) => `providers.${index}.${field}`
  return (
    <fieldset className="field-row" aria-labelledby={`${id}-legend`}>
      <legend id={`${id}-legend`}>{title}</legend>
      {preset?.name === GENERIC && (
        <Field
          label="Name"
          name={at('name')}
          value={draft.name}
          required
          hint="oidc, or oidc- and a label: the name apps sign in with."
          error={error}
          onChange={(event) => onChange({ name: event.target.value })}
        />
      )}
      <Field
        label="Client ID"
        name={at('clientId')}
        value={draft.clientId}
        required
        autoComplete="off"
        error={error}
        onChange={(event) => onChange({ clientId: event.target.value })}
      />
      <Field
        label="Client secret"
        name={at('clientSecret')}
        type="password"
        autoComplete="new-password"
        value={draft.clientSecret}
        required={!draft.clientSecretSet}
        hint={draft.clientSecretSet ? 'A secret is stored; leave this empty to keep it.' : undefined}
        error={error}
        onChange={(event) => onChange({ clientSecret: event.target.value })}
      />
      {preset?.isIssuerConfigurable && (
        <Field
          label="Issuer"
          name={at('issuer')}
          type="url"
          value={draft.issuer}
          required={preset.issuer === null}
          placeholder={preset.issuer ?? 'https://sso.example.com/realms/main'}
          hint={
            preset.issuer ? `Leave empty for ${preset.issuer}.` : 'Its discovery document is read from here.'
          }
          error={error}
          onChange={(event) => onChange({ issuer: event.target.value })}
        />
      )}
      <Field
        label="Display name"
        name={at('displayName')}
        value={draft.displayName}
        placeholder={preset?.displayName}
        error={error}
        onChange={(event) => onChange({ displayName: event.target.value })}
      />
      <Field
        label="Scopes"
        name={at('scopes')}
        value={draft.scopes}
        placeholder={preset?.scopes.join(' ')}
        hint="Separated by spaces; leave empty for the provider's defaults."
        error={error}
        onChange={(event) => onChange({ scopes: event.target.value })}
      />
      <TextAreaField
        label="Redirect URLs"
        name={at('redirectURLs')}
        rows={2}
        value={draft.redirectURLs}
        required
        hint="One per line: where the provider may send people back to (your app's callback page)."
        alsoFor={words(draft.redirectURLs).map((_, i) => `${at('redirectURLs')}.${i}`)}
        error={error}
        onChange={(event) => onChange({ redirectURLs: event.target.value })}
      />
      <button type="button" className="danger" onClick={onRemove}>
        Remove {draft.name}
      </button>
    </fieldset>
  )
}
