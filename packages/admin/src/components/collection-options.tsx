import { useId } from 'react'
import { ApiError } from '../api/problem'
import type { IndexDefinition, SearchOptions } from '../api/types'

export const searchLanguages = [
  'simple',
  'english',
  'danish',
  'dutch',
  'finnish',
  'french',
  'german',
  'hungarian',
  'italian',
  'norwegian',
  'portuguese',
  'romanian',
  'russian',
  'spanish',
  'swedish',
  'turkish',
]

const listOf = (text: string) => text.split(',').map((item) => item.trim())
const messageOf = (error: unknown, path: string) =>
  error instanceof ApiError ? error.fieldMessage(path) : undefined

function Message({ id, label, message }: { id: string; label: string; message?: string }) {
  if (!message) return null
  return (
    <p className="field-error" id={id}>
      {label}: {message}
    </p>
  )
}

/** The collection's indexes: each a list of field names, unique or not. */
export function IndexesEditor({
  indexes,
  onChange,
  error,
}: {
  indexes: IndexDefinition[]
  onChange: (indexes: IndexDefinition[]) => void
  error?: unknown
}) {
  const id = useId()
  const update = (index: number, patch: Partial<IndexDefinition>) =>
    onChange(indexes.map((item, i) => (i === index ? { ...item, ...patch } : item)))
  return (
    <section aria-labelledby={`${id}-heading`}>
      <h2 id={`${id}-heading`}>Indexes</h2>
      {indexes.map((item, index) => {
        const message = messageOf(error, `indexes.${index}`) ?? messageOf(error, `indexes.${index}.fields`)
        const inputId = `${id}-${index}`
        return (
          <div className="index-row" key={item.id ?? index}>
            <div className="field">
              <label htmlFor={inputId}>Index {index + 1} fields</label>
              <input
                id={inputId}
                value={item.fields.join(', ')}
                aria-invalid={message ? true : undefined}
                aria-describedby={message ? `${inputId}-error` : undefined}
                onChange={(event) => update(index, { fields: listOf(event.target.value) })}
              />
              <Message id={`${inputId}-error`} label={`Index ${index + 1}`} message={message} />
            </div>
            <label className="check">
              <input
                type="checkbox"
                checked={item.unique === true}
                onChange={(event) => update(index, { unique: event.target.checked })}
              />{' '}
              Unique (index {index + 1})
            </label>
            <button
              type="button"
              className="danger"
              onClick={() => onChange(indexes.filter((_, i) => i !== index))}
            >
              Remove index {index + 1}
            </button>
          </div>
        )
      })}
      <button type="button" onClick={() => onChange([...indexes, { fields: [] }])}>
        Add index
      </button>
    </section>
  )
}

/** Full-text search over some fields (docs/search.md), or none. */
export function SearchEditor({
  search,
  onChange,
  error,
}: {
  search: SearchOptions | null
  onChange: (search: SearchOptions | null) => void
  error?: unknown
}) {
  const id = useId()
  const fieldsMessage = messageOf(error, 'search') ?? messageOf(error, 'search.fields')
  return (
    <section aria-labelledby={`${id}-heading`}>
      <h2 id={`${id}-heading`}>Search</h2>
      <label className="check">
        <input
          type="checkbox"
          checked={search !== null}
          onChange={(event) =>
            onChange(event.target.checked ? { fields: [], language: 'simple', fuzzy: false } : null)
          }
        />{' '}
        Full-text search
      </label>
      {search && (
        <div className="search-options">
          <div className="field">
            <label htmlFor={`${id}-fields`}>Searched fields</label>
            <input
              id={`${id}-fields`}
              value={search.fields.join(', ')}
              aria-invalid={fieldsMessage ? true : undefined}
              aria-describedby={`${id}-fields-hint${fieldsMessage ? ` ${id}-fields-error` : ''}`}
              onChange={(event) => onChange({ ...search, fields: listOf(event.target.value) })}
            />
            <p className="hint" id={`${id}-fields-hint`}>
              Comma-separated names of text, editor, email, url or select fields.
            </p>
            <Message id={`${id}-fields-error`} label="Searched fields" message={fieldsMessage} />
          </div>
          <div className="field">
            <label htmlFor={`${id}-language`}>Language</label>
            <select
              id={`${id}-language`}
              value={search.language ?? 'simple'}
              onChange={(event) => onChange({ ...search, language: event.target.value })}
            >
              {searchLanguages.map((language) => (
                <option key={language}>{language}</option>
              ))}
            </select>
            <Message
              id={`${id}-language-error`}
              label="Language"
              message={messageOf(error, 'search.language')}
            />
          </div>
          <label className="check">
            <input
              type="checkbox"
              checked={search.fuzzy === true}
              onChange={(event) => onChange({ ...search, fuzzy: event.target.checked })}
            />{' '}
            Find words with a typo (fuzzy)
          </label>
        </div>
      )}
    </section>
  )
}
