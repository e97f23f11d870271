import { type ReactNode, useEffect, useId, useRef, useState } from 'react'
import { ApiError } from '../api/problem'
import type { FieldDefinition } from '../api/types'

export interface ControlProps {
  field: FieldDefinition
  value: unknown
  onChange: (value: unknown) => void
  /** The last save's failure: its message for this field shows beside it. */
  error: unknown
}

/** A field's label, its control and the server's message about it. */
export function FieldShell({
  field,
  error,
  hint,
  children,
}: {
  field: FieldDefinition
  error: unknown
  hint?: string
  children: (id: string, describedBy: string | undefined, invalid: true | undefined) => ReactNode
}) {
  const id = useId()
  const message = error instanceof ApiError ? error.fieldMessage(field.name) : undefined
  const described = [hint && `${id}-hint`, message && `${id}-error`].filter(Boolean).join(' ') || undefined
  return (
    <div className="field">
      <label htmlFor={id}>
        {field.name}
        {field.required ? ' (required)' : ''}
      </label>
      {children(id, described, message ? true : undefined)}
      {hint && (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {message && (
        <p className="field-error" id={`${id}-error`}>
          {field.name}: {message}
        </p>
      )}
    </div>
  )
}

const asText = (value: unknown) => (value === null || value === undefined ? '' : String(value))
export const asList = (value: unknown): string[] =>
  Array.isArray(value)
    ? value.map(String)
    : value === null || value === undefined || value === ''
      ? []
      : [String(value)]
export const isMultiple = (field: FieldDefinition) =>
  typeof field.maxSelect === 'number' && field.maxSelect > 1

const inputTypes: Record<string, string> = {
  email: 'email',
  url: 'url',
  number: 'number',
  password: 'password',
}

export function TextControl({ field, value, onChange, error }: ControlProps) {
  // The id is the one system field a person may write, and only when creating a record.
  const isId = field.name === 'id'
  return (
    <FieldShell
      field={isId ? { ...field, required: false } : field}
      error={error}
      hint={isId ? 'Leave empty for a generated id.' : undefined}
    >
      {(id, describedBy, invalid) => (
        <input
          id={id}
          type={inputTypes[field.type] ?? 'text'}
          step={field.type === 'number' && !field.onlyInt ? 'any' : undefined}
          value={asText(value)}
          aria-describedby={describedBy}
          aria-invalid={invalid}
          autoComplete={field.type === 'password' ? 'new-password' : undefined}
          onChange={(event) =>
            onChange(
              field.type === 'number'
                ? event.target.value === ''
                  ? null
                  : Number(event.target.value)
                : event.target.value,
            )
          }
        />
      )}
    </FieldShell>
  )
}

export function BoolControl({ field, value, onChange, error }: ControlProps) {
  const id = useId()
  const message = error instanceof ApiError ? error.fieldMessage(field.name) : undefined
  return (
    <div className="field check">
      <input
        id={id}
        type="checkbox"
        checked={Boolean(value)}
        aria-invalid={message ? true : undefined}
        aria-describedby={message ? `${id}-error` : undefined}
        onChange={(event) => onChange(event.target.checked)}
      />
      <label htmlFor={id}>{field.name}</label>
      {message && (
        <p className="field-error" id={`${id}-error`}>
          {field.name}: {message}
        </p>
      )}
    </div>
  )
}

/** Dates are stored in UTC; the native picker edits them as UTC too, so no time zone shifts them. */
export function DateControl({ field, value, onChange, error }: ControlProps) {
  const text = typeof value === 'string' && value ? value.slice(0, 16) : ''
  return (
    <FieldShell field={field} error={error} hint="In UTC.">
      {(id, describedBy, invalid) => (
        <input
          id={id}
          type="datetime-local"
          value={text}
          aria-describedby={describedBy}
          aria-invalid={invalid}
          onChange={(event) => onChange(event.target.value ? `${event.target.value}:00Z` : null)}
        />
      )}
    </FieldShell>
  )
}

export function SelectControl({ field, value, onChange, error }: ControlProps) {
  const values = Array.isArray(field.values) ? (field.values as string[]) : []
  if (!isMultiple(field))
    return (
      <FieldShell field={field} error={error}>
        {(id, describedBy, invalid) => (
          <select
            id={id}
            value={asText(value)}
            aria-describedby={describedBy}
            aria-invalid={invalid}
            onChange={(event) => onChange(event.target.value)}
          >
            <option value="">(none)</option>
            {values.map((option) => (
              <option key={option}>{option}</option>
            ))}
          </select>
        )}
      </FieldShell>
    )
  const chosen = asList(value)
  const message = error instanceof ApiError ? error.fieldMessage(field.name) : undefined
  return (
    <fieldset className="field choices">
      <legend>{field.name}</legend>
      {values.map((option) => (
        <label key={option} className="check">
          <input
            type="checkbox"
            checked={chosen.includes(option)}
            onChange={(event) =>
              onChange(event.target.checked ? [...chosen, option] : chosen.filter((item) => item !== option))
            }
          />
          {option}
        </label>
      ))}
      {message && <p className="field-error">{`${field.name}: ${message}`}</p>}
    </fieldset>
  )
}

/** A JSON value as text, checked as it is typed; the form sends it only when it parses. */
export function JsonControl({ field, value, onChange, error }: ControlProps) {
  const [text, setText] = useState(() =>
    value === null || value === undefined ? '' : JSON.stringify(value, null, 2),
  )
  const [invalid, setInvalid] = useState<string | null>(null)
  return (
    <FieldShell field={field} error={error} hint={invalid ?? 'Any JSON value.'}>
      {(id, describedBy, serverInvalid) => (
        <textarea
          id={id}
          rows={6}
          className="code"
          value={text}
          aria-describedby={describedBy}
          aria-invalid={invalid ? true : serverInvalid}
          onChange={(event) => {
            setText(event.target.value)
            if (event.target.value.trim() === '') {
              setInvalid(null)
              onChange(null)
              return
            }
            try {
              onChange(JSON.parse(event.target.value))
              setInvalid(null)
            } catch (failure) {
              setInvalid(`Not valid JSON: ${(failure as Error).message}`)
              onChange(INVALID_JSON)
            }
          }}
        />
      )}
    </FieldShell>
  )
}

/** Stands for a JSON field whose text does not parse: the form refuses to send it. */
export const INVALID_JSON = Symbol('invalid JSON')

const editorCommands = [
  { command: 'bold', label: 'Bold' },
  { command: 'italic', label: 'Italic' },
  { command: 'insertUnorderedList', label: 'Bulleted list' },
  { command: 'insertOrderedList', label: 'Numbered list' },
]

/**
 * Rich text: an editable region with a few commands. It sends HTML, which the server sanitises
 * on write (docs/collections.md), so nothing here needs to clean it.
 */
export function EditorControl({ field, value, onChange, error }: ControlProps) {
  const region = useRef<HTMLDivElement>(null)
  const labelId = useId()
  const message = error instanceof ApiError ? error.fieldMessage(field.name) : undefined
  // Written once: writing innerHTML on every keystroke would move the caret to the start.
  const initial = useRef(asText(value))
  useEffect(() => {
    if (region.current) region.current.innerHTML = initial.current
  }, [])
  return (
    <div className="field">
      <span id={labelId} className="label">
        {field.name}
      </span>
      <div className="editor-toolbar" role="toolbar" aria-label={`Format ${field.name}`}>
        {editorCommands.map(({ command, label }) => (
          <button
            key={command}
            type="button"
            onMouseDown={(event) => event.preventDefault()}
            onClick={() => {
              region.current?.focus()
              document.execCommand(command)
              onChange(region.current?.innerHTML ?? '')
            }}
          >
            {label}
          </button>
        ))}
      </div>
      {/* biome-ignore lint/a11y/useSemanticElements: a textarea cannot hold formatted text. */}
      <div
        ref={region}
        className="editor"
        role="textbox"
        tabIndex={0}
        aria-multiline="true"
        aria-labelledby={labelId}
        aria-invalid={message ? true : undefined}
        contentEditable
        suppressContentEditableWarning
        onInput={(event) => onChange(event.currentTarget.innerHTML)}
      />
      {message && <p className="field-error">{`${field.name}: ${message}`}</p>}
    </div>
  )
}
