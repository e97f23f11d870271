import { type InputHTMLAttributes, useId } from 'react'
import { ApiError, describeError } from '../api/problem'

interface FieldProps extends InputHTMLAttributes<HTMLInputElement> {
  label: string
  name: string
  /** The error of the last submit, if any: its message for this field shows under it. */
  error?: unknown
  hint?: string
}

/**
 * A labelled input that shows, next to itself, what the server said about its field
 * (`errors[name]` of a problem+json answer).
 */
export function Field({ label, name, error, hint, ...input }: FieldProps) {
  const id = useId()
  const message = error instanceof ApiError ? error.fieldMessage(name) : undefined
  const described = [hint && `${id}-hint`, message && `${id}-error`].filter(Boolean).join(' ')
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        name={name}
        aria-invalid={message ? true : undefined}
        aria-describedby={described || undefined}
        {...input}
      />
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
