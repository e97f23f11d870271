import { type KeyboardEvent, useId, useLayoutEffect, useRef, useState } from 'react'
import { type Completion, complete, type FilterSchema, tokenize } from './filter-syntax'

export interface FilterInputProps {
  /** The accessible name, shown as the label. */
  label: string
  value: string
  onChange: (value: string) => void
  /** The collections completion reads field names from; `collection` is the one filtered. */
  schema: FilterSchema
  /** What the server said about this filter, shown under it. */
  error?: string
  hint?: string
  placeholder?: string
  disabled?: boolean
  /** Enter without a suggestion open (a filter box's search); without it Enter does nothing. */
  onSubmit?: () => void
}

const closed: Completion = { from: 0, to: 0, suggestions: [] }

/**
 * A one-line editor for the filter language: highlighted as typed, with completion of field
 * names, relation paths, `@request.*`, `@collection.*` and the macros. The text is drawn by a
 * highlighted layer under a transparent textarea, so editing, selection and the screen reader
 * all work on a plain textarea.
 */
export function FilterInput({
  label,
  value,
  onChange,
  schema,
  error,
  hint,
  placeholder,
  disabled,
  onSubmit,
}: FilterInputProps) {
  const id = useId()
  const textarea = useRef<HTMLTextAreaElement>(null)
  const layer = useRef<HTMLPreElement>(null)
  const [completion, setCompletion] = useState<Completion>(closed)
  // Where the caret goes once an accepted suggestion is rendered; set in the same commit, so keys
  // typed straight after land after the suggestion.
  const caret = useRef<number | null>(null)
  useLayoutEffect(() => {
    if (caret.current === null) return
    textarea.current?.setSelectionRange(caret.current, caret.current)
    caret.current = null
  })
  const [active, setActive] = useState(0)
  const open = completion.suggestions.length > 0
  const listId = `${id}-suggestions`
  const described = [hint && `${id}-hint`, error && `${id}-error`].filter(Boolean).join(' ')

  /** Typing offers names once a word is begun; Ctrl+Space (`always`) offers them anywhere. */
  const suggest = (text: string, cursor: number, always = false) => {
    const next = complete(text, cursor, schema)
    setCompletion(always || next.from < cursor ? next : closed)
    setActive(0)
  }

  const accept = (suggestion: string) => {
    const next = value.slice(0, completion.from) + suggestion + value.slice(completion.to)
    const cursor = completion.from + suggestion.length
    onChange(next)
    // A path ending in a dot goes on: offer what follows it straight away.
    if (suggestion.endsWith('.')) suggest(next, cursor)
    else setCompletion(closed)
    caret.current = cursor
  }

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === ' ' && event.ctrlKey) {
      event.preventDefault()
      suggest(value, event.currentTarget.selectionStart, true)
      return
    }
    if (!open) {
      if (event.key === 'Enter') {
        event.preventDefault()
        onSubmit?.()
      }
      return
    }
    const count = completion.suggestions.length
    if (event.key === 'ArrowDown') setActive((active + 1) % count)
    else if (event.key === 'ArrowUp') setActive((active - 1 + count) % count)
    else if (event.key === 'Enter' || event.key === 'Tab') accept(completion.suggestions[active]!)
    else if (event.key === 'Escape') setCompletion(closed)
    else return
    event.preventDefault()
  }

  return (
    <div className="field filter-field">
      <label htmlFor={id}>{label}</label>
      <div className="filter-input">
        <pre className="filter-layer" aria-hidden="true" ref={layer}>
          {tokenize(value).map((token) => (
            <span key={token.start} className={`tok-${token.kind}`}>
              {token.text}
            </span>
          ))}
          {/* A trailing space keeps the layer as tall as the textarea when the text ends in a new line. */}{' '}
        </pre>
        <textarea
          id={id}
          ref={textarea}
          rows={1}
          spellCheck={false}
          autoCapitalize="off"
          autoComplete="off"
          value={value}
          placeholder={placeholder}
          disabled={disabled}
          aria-autocomplete="list"
          aria-controls={open ? listId : undefined}
          aria-activedescendant={open ? `${listId}-${active}` : undefined}
          aria-invalid={error ? true : undefined}
          aria-describedby={described || undefined}
          onChange={(event) => {
            onChange(event.target.value)
            suggest(event.target.value, event.target.selectionStart)
          }}
          onKeyDown={onKeyDown}
          onBlur={() => setCompletion(closed)}
          onScroll={(event) => {
            if (layer.current) layer.current.scrollTop = event.currentTarget.scrollTop
          }}
        />
        {open && (
          <div
            className="filter-suggestions"
            role="listbox"
            id={listId}
            aria-label={`Suggestions for ${label}`}
          >
            {completion.suggestions.map((suggestion, index) => (
              <div
                key={suggestion}
                id={`${listId}-${index}`}
                role="option"
                // Focus stays in the textarea (aria-activedescendant); the options are reached by keys from there.
                tabIndex={-1}
                aria-selected={index === active}
                // mousedown, not click: a click would blur the textarea and close the list first.
                onMouseDown={(event) => {
                  event.preventDefault()
                  accept(suggestion)
                }}
              >
                {suggestion}
              </div>
            ))}
          </div>
        )}
      </div>
      {hint && (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {error && (
        <p className="field-error" id={`${id}-error`}>
          {label}: {error}
        </p>
      )}
    </div>
  )
}
