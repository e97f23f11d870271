import { type InputHTMLAttributes, type ReactNode, type TextareaHTMLAttributes, useId } from 'react'
import { ApiError, describeError } from '../api/problem'
import { SignOutButton } from './sign-out-button'

interface Labelled {
  label: string
  name: string
  /** The error of the last submit, if any: its message for this field shows under it. */
  error?: unknown
  hint?: string
  /** Further problem paths whose messages also belong here (`redirectURLs.0` under `redirectURLs`). */
  alsoFor?: string[]
}

type FieldProps = Labelled & InputHTMLAttributes<HTMLInputElement>
type TextAreaFieldProps = Labelled & TextareaHTMLAttributes<HTMLTextAreaElement>

/**
 * A labelled input that shows, next to itself, what the server said about its field
 * (`errors[name]` of a problem+json answer).
 */
export function Field({ label, name, error, hint, alsoFor, ...input }: FieldProps) {
  return (
    <Labelled label={label} name={name} error={error} hint={hint} alsoFor={alsoFor}>
      {(control) => <input name={name} {...control} {...input} />}
    </Labelled>
  )
}

/** A labelled textarea, with the server's message for its field beside it as `Field` has. */
export function TextAreaField({ label, name, error, hint, alsoFor, ...textarea }: TextAreaFieldProps) {
  return (
    <Labelled label={label} name={name} error={error} hint={hint} alsoFor={alsoFor}>
      {(control) => <textarea name={name} {...control} {...textarea} />}
    </Labelled>
  )
}

interface ControlProps {
  id: string
  'aria-invalid': true | undefined
  'aria-describedby': string | undefined
}

function Labelled({
  label,
  name,
  error,
  hint,
  alsoFor = [],
  children,
}: Labelled & { children: (control: ControlProps) => ReactNode }) {
  const id = useId()
  const messages =
    error instanceof ApiError
      ? [name, ...alsoFor].map((path) => error.fieldMessage(path)).filter((text) => text !== undefined)
      : []
  const message = messages.length > 0 ? messages.join('; ') : undefined
  const described = [hint && `${id}-hint`, message && `${id}-error`].filter(Boolean).join(' ')
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children({
        id,
        'aria-invalid': message ? true : undefined,
        'aria-describedby': described || undefined,
      })}
      {hint && (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {message && (
        <p className="field-error" id={`${id}-error`}>
          {label}: {message}
        </p>
      )}
    </div>
  )
}

/**
 * What went wrong with a submit as a whole, in the server's words. Field errors show beside
 * their fields; errors about fields the form does not have are listed here too, so none is lost.
 */
export function FormError({ error, fields = [] }: { error: unknown; fields?: string[] }) {
  if (!error) return null
  const others =
    error instanceof ApiError
      ? Object.entries(error.fieldErrors).filter(([name]) => !fields.includes(name))
      : []
  return (
    <div className="form-error" role="alert">
      <p>{describeError(error)}</p>
      {error instanceof ApiError && error.code === 'reauthentication_required' && (
        // Changes to how one signs in want a fresh sign-in; the stale session ends first so
        // it does not linger beside the new one, and the sign-in comes back here.
        <p>
          <SignOutButton label="Sign in again" comeBack /> and retry.
        </p>
      )}
      {others.length > 0 && (
        <ul>
          {others.map(([name, { message }]) => (
            <li key={name}>
              {name}: {message}
            </li>
          ))}
        </ul>
      )}
    </div>
  )
}

/** The values of a submitted form, as strings. */
export function formValues(form: HTMLFormElement): Record<string, string> {
  const values: Record<string, string> = {}
  for (const [key, value] of new FormData(form)) if (typeof value === 'string') values[key] = value
  return values
}
