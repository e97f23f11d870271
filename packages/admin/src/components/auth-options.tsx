import { useId } from 'react'
import type { CollectionModel } from '../api/types'
import { Field, TextAreaField } from './form'

export type Options = Record<string, unknown>

const linkMails = [
  ['verification', 'Verification'],
  ['passwordReset', 'Password reset'],
  ['emailChange', 'Email change'],
] as const
const mails = [...linkMails, ['otp', 'Sign-in code']] as const
const requirements = [
  ['requireLetter', 'a letter'],
  ['requireMixedCase', 'upper and lower case'],
  ['requireDigit', 'a digit'],
  ['requireSymbol', 'a symbol'],
] as const

/** Problem paths this editor shows beside its own controls; the rest go to the form's summary. */
export const OPTION_PATHS =
  /^options\.(identityFields(\.\d+)?|otp\.length|passwordPolicy\.(minLength|maxLength)|mailLinks\.\w+|mailTemplates\.\w+\.(subject|text|html))$/

/** The value at a dotted path of the options, if any. */
function valueAt(options: Options, path: string): unknown {
  let value: unknown = options
  for (const key of path.split('.')) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) return undefined
    value = (value as Options)[key]
  }
  return value
}

/**
 * The options with one path set, or removed when `value` is undefined; an object left
 * empty goes too, so an untouched default is not sent as `{}`.
 */
function withValue(options: Options, path: string, value: unknown): Options {
  const [key, ...rest] = path.split('.') as [string, ...string[]]
  const next: Options = { ...options }
  const inner =
    rest.length === 0
      ? value
      : withValue((valueAt(options, key) as Options | undefined) ?? {}, rest.join('.'), value)
  if (inner === undefined || (rest.length > 0 && Object.keys(inner as Options).length === 0)) delete next[key]
  else next[key] = inner
  return next
}

const text = (value: unknown) => (typeof value === 'string' ? value : '')
const numberText = (value: unknown) => (typeof value === 'number' ? String(value) : '')
const numberOrUnset = (input: string) => (input.trim() === '' ? undefined : Number(input))
const textOrUnset = (input: string) => (input === '' ? undefined : input)

/**
 * A collection's `options`: how updates are checked, and for auth collections how people
 * sign in, which mails they get and what a password needs. Every option the server takes
 * is here; what the editor does not set keeps the server's default.
 */
export function OptionsEditor({
  type,
  options,
  onChange,
  error,
}: {
  type: CollectionModel['type']
  options: Options
  onChange: (options: Options) => void
  error?: unknown
}) {
  const id = useId()
  const set = (path: string, value: unknown) => onChange(withValue(options, path, value))
  const check = (
    path: string,
    label: string,
    isChecked: boolean,
    checkedValue: unknown,
    uncheckedValue: unknown,
  ) => (
    <label className="check">
      <input
        type="checkbox"
        checked={isChecked}
        onChange={(event) => set(path, event.target.checked ? checkedValue : uncheckedValue)}
      />{' '}
      {label}
    </label>
  )
  /** A whole-number option; emptied, it goes back to the server's default (the placeholder). */
  const numberOption = (path: string, label: string, min: number, max: number, fallback: number) => (
    <Field
      label={label}
      name={`options.${path}`}
      type="number"
      min={min}
      max={max}
      value={numberText(valueAt(options, path))}
      placeholder={String(fallback)}
      error={error}
      onChange={(event) => set(path, numberOrUnset(event.target.value))}
    />
  )
  return (
    <section aria-labelledby={`${id}-heading`}>
      <h2 id={`${id}-heading`}>Options</h2>
      {check(
        'updateRuleChecksNewRecord',
        'Check the update rule on the record as the update leaves it, too',
        valueAt(options, 'updateRuleChecksNewRecord') !== false,
        undefined,
        false,
      )}
      {type === 'auth' && (
        <>
          {check(
            'onlyVerified',
            'Only verified users may sign in',
            valueAt(options, 'onlyVerified') === true,
            true,
            undefined,
          )}
          <Field
            label="Identity fields"
            name="options.identityFields"
            value={((valueAt(options, 'identityFields') as string[] | undefined) ?? []).join(', ')}
            placeholder="email"
            hint="What a password sign-in's identity is matched against, separated by commas: email, or unique text fields."
            alsoFor={[0, 1, 2, 3, 4].map((index) => `options.identityFields.${index}`)}
            error={error}
            onChange={(event) => {
              const names = event.target.value.split(',').map((name) => name.trim())
              set('identityFields', names.some(Boolean) ? names : undefined)
            }}
          />
          {check(
            'otp',
            'Sign-in with a code by mail',
            valueAt(options, 'otp.enabled') === true,
            { ...((valueAt(options, 'otp') as Options | undefined) ?? {}), enabled: true },
            undefined,
          )}
          {valueAt(options, 'otp.enabled') === true && numberOption('otp.length', 'Code length', 6, 10, 6)}
          {check(
            'mfa',
            'Flag users without a second factor when they sign in',
            valueAt(options, 'mfa.required') === true,
            { required: true },
            undefined,
          )}
          <fieldset className="field-row">
            <legend>Password policy</legend>
            {numberOption('passwordPolicy.minLength', 'Minimum length', 8, 256, 8)}
            {numberOption('passwordPolicy.maxLength', 'Maximum length', 8, 256, 256)}
            {requirements.map(([key, what]) => (
              <span key={key}>
                {check(
                  `passwordPolicy.${key}`,
                  `Require ${what}`,
                  valueAt(options, `passwordPolicy.${key}`) === true,
                  true,
                  undefined,
                )}
              </span>
            ))}
          </fieldset>
          <details>
            <summary>Mail links</summary>
            <p className="hint">
              Your app's own pages for the links in the mails; empty keeps Plinth's pages.
            </p>
            {linkMails.map(([kind, label]) => (
              <Field
                key={kind}
                label={`${label} link`}
                name={`options.mailLinks.${kind}`}
                type="url"
                value={text(valueAt(options, `mailLinks.${kind}`))}
                error={error}
                onChange={(event) => set(`mailLinks.${kind}`, textOrUnset(event.target.value))}
              />
            ))}
          </details>
          <details>
            <summary>Mail templates</summary>
            <p className="hint">
              Replace any part of a mail; empty keeps Plinth's. Link mails need {'{{LINK}}'} or {'{{TOKEN}}'},
              the sign-in code mail {'{{CODE}}'}.
            </p>
            {mails.map(([kind, label]) => (
              <fieldset key={kind} className="field-row">
                <legend>{label} mail</legend>
                <Field
                  label={`${label} subject`}
                  name={`options.mailTemplates.${kind}.subject`}
                  value={text(valueAt(options, `mailTemplates.${kind}.subject`))}
                  error={error}
                  onChange={(event) => set(`mailTemplates.${kind}.subject`, textOrUnset(event.target.value))}
                />
                {(['text', 'html'] as const).map((part) => (
                  <TextAreaField
                    key={part}
                    label={`${label} ${part === 'text' ? 'plain text' : 'HTML'}`}
                    name={`options.mailTemplates.${kind}.${part}`}
                    rows={3}
                    value={text(valueAt(options, `mailTemplates.${kind}.${part}`))}
                    error={error}
                    onChange={(event) =>
                      set(`mailTemplates.${kind}.${part}`, textOrUnset(event.target.value))
                    }
                  />
                ))}
              </fieldset>
            ))}
          </details>
        </>
      )}
    </section>
  )
}
