import { cloneElement, type ReactElement, useId } from 'react'
import { ApiError } from '../api/problem'
import type { CollectionModel, FieldDefinition } from '../api/types'

/** A field being edited: its definition plus a key that stays put while its name changes. */
export interface FieldDraft extends FieldDefinition {
  key: string
}

type OptionKind = 'number' | 'text' | 'bool' | 'list' | 'collection' | 'onDelete'

interface OptionSpec {
  name: string
  label: string
  kind: OptionKind
  hint?: string
}

const maxSelect: OptionSpec = {
  name: 'maxSelect',
  label: 'Max select',
  kind: 'number',
  hint: 'More than 1 holds a list.',
}
const domains: OptionSpec[] = [
  { name: 'onlyDomains', label: 'Only domains', kind: 'list', hint: 'Comma-separated.' },
  { name: 'exceptDomains', label: 'Except domains', kind: 'list', hint: 'Comma-separated.' },
]

/** Every type a new field may have, with its options, as packages/server/src/collections/fields declares them. */
export const fieldTypes: Record<string, OptionSpec[]> = {
  text: [
    { name: 'min', label: 'Min length', kind: 'number' },
    { name: 'max', label: 'Max length', kind: 'number' },
    { name: 'pattern', label: 'Pattern', kind: 'text', hint: 'A regular expression.' },
  ],
  editor: [{ name: 'max', label: 'Max length', kind: 'number' }],
  number: [
    { name: 'min', label: 'Min', kind: 'number' },
    { name: 'max', label: 'Max', kind: 'number' },
    { name: 'onlyInt', label: 'Integers only', kind: 'bool' },
  ],
  bool: [],
  email: domains,
  url: domains,
  date: [
    { name: 'min', label: 'Earliest', kind: 'text', hint: 'An ISO 8601 date.' },
    { name: 'max', label: 'Latest', kind: 'text', hint: 'An ISO 8601 date.' },
  ],
  autodate: [
    { name: 'onCreate', label: 'Set on create', kind: 'bool' },
    { name: 'onUpdate', label: 'Set on update', kind: 'bool' },
  ],
  select: [{ name: 'values', label: 'Values', kind: 'list', hint: 'Comma-separated.' }, maxSelect],
  json: [{ name: 'max', label: 'Max size (bytes)', kind: 'number' }],
  relation: [
    { name: 'collection', label: 'Target collection', kind: 'collection' },
    maxSelect,
    { name: 'onDelete', label: 'When the target is deleted', kind: 'onDelete' },
  ],
  file: [
    maxSelect,
    { name: 'maxSize', label: 'Max size (bytes)', kind: 'number' },
    {
      name: 'mimeTypes',
      label: 'Media types',
      kind: 'list',
      hint: 'Comma-separated, such as image/png, image/*.',
    },
    { name: 'thumbs', label: 'Thumbnail sizes', kind: 'list', hint: 'Comma-separated, such as 100x100.' },
    { name: 'protected', label: 'Protected', kind: 'bool', hint: 'Downloads need a file token.' },
  ],
}

const onDeleteChoices = [
  ['set-null', 'Clear the relation'],
  ['cascade', 'Delete this record too (cascade)'],
  ['restrict', 'Refuse the delete'],
] as const

let nextKey = 0
export const draftOf = (field: FieldDefinition): FieldDraft => ({ ...field, key: `f${nextKey++}` })

/** A draft as the API takes it: without the key, empty options and empty list entries left out. */
export function definitionOf({ key: _key, ...field }: FieldDraft): FieldDefinition {
  const out: FieldDefinition = { name: field.name, type: field.type }
  for (const [name, value] of Object.entries(field)) {
    if (value === undefined || value === '') continue
    out[name] = Array.isArray(value) ? value.filter((item) => item !== '') : value
  }
  return out
}

interface FieldEditorProps {
  fields: FieldDraft[]
  onChange: (fields: FieldDraft[]) => void
  /** Targets a relation may point at. */
  collections: Pick<CollectionModel, 'name' | 'type'>[]
  /** The last save's error: messages named `fields.<index>…` show beside that field. */
  error?: unknown
}

/** The list of a collection's own fields: add, rename (the id is kept), set options, remove. */
export function FieldEditor({ fields, onChange, collections, error }: FieldEditorProps) {
  const update = (index: number, patch: Partial<FieldDraft>) =>
    onChange(fields.map((field, i) => (i === index ? { ...field, ...patch } : field)))
  return (
    <section aria-labelledby="fields-heading" className="field-editor">
      <h2 id="fields-heading">Fields</h2>
      {fields.length === 0 && <p className="hint">No fields of its own yet.</p>}
      {fields.map((field, index) => (
        <FieldRow
          key={field.key}
          field={field}
          index={index}
          collections={collections}
          error={error}
          onChange={(patch) => update(index, patch)}
          onRemove={() => onChange(fields.filter((_, i) => i !== index))}
        />
      ))}
      <button type="button" onClick={() => onChange([...fields, draftOf({ name: '', type: 'text' })])}>
        Add field
      </button>
    </section>
  )
}

function FieldRow({
  field,
  index,
  collections,
  error,
  onChange,
  onRemove,
}: {
  field: FieldDraft
  index: number
  collections: FieldEditorProps['collections']
  error: unknown
  onChange: (patch: Partial<FieldDraft>) => void
  onRemove: () => void
}) {
  const id = useId()
  const messageOf = (path: string) =>
    error instanceof ApiError ? error.fieldMessage(`fields.${index}${path && `.${path}`}`) : undefined
  const existing = field.id !== undefined
  const title = field.name || `new field ${index + 1}`
  const whole = messageOf('')
  return (
    <fieldset className="field-row" aria-describedby={whole ? `${id}-error` : undefined}>
      <legend>Field {title}</legend>
      <div className="field-row-main">
        <Control id={`${id}-name`} label="Name" message={messageOf('name')}>
          <input
            id={`${id}-name`}
            value={field.name}
            required
            onChange={(event) => onChange({ name: event.target.value })}
          />
        </Control>
        <Control id={`${id}-type`} label="Type" message={messageOf('type')}>
          <select
            id={`${id}-type`}
            value={field.type}
            // A type cannot change in place (docs/collections.md): add a new field instead.
            disabled={existing}
            onChange={(event) => onChange({ type: event.target.value })}
          >
            {(field.type in fieldTypes
              ? Object.keys(fieldTypes)
              : [field.type, ...Object.keys(fieldTypes)]
            ).map((type) => (
              <option key={type}>{type}</option>
            ))}
          </select>
        </Control>
        <Check
          label="Required"
          checked={field.required === true}
          onChange={(required) => onChange({ required })}
        />
        <Check label="Hidden" checked={field.hidden === true} onChange={(hidden) => onChange({ hidden })} />
        <button type="button" className="danger" onClick={onRemove} aria-label={`Remove field ${title}`}>
          Remove
        </button>
      </div>
      {(fieldTypes[field.type] ?? []).length > 0 && (
        <div className="field-row-options">
          {(fieldTypes[field.type] ?? []).map((option) => (
            <OptionInput
              key={option.name}
              id={`${id}-${option.name}`}
              option={option}
              value={field[option.name]}
              message={messageOf(option.name)}
              collections={collections}
              // A relation's target cannot change in place either.
              disabled={existing && option.kind === 'collection'}
              onChange={(value) => onChange({ [option.name]: value })}
            />
          ))}
        </div>
      )}
      {whole && (
        <p className="field-error" id={`${id}-error`}>
          {title}: {whole}
        </p>
      )}
    </fieldset>
  )
}

function Control({
  id,
  label,
  hint,
  message,
  children,
}: {
  id: string
  label: string
  hint?: string
  message?: string
  children: ReactElement<{ 'aria-describedby'?: string; 'aria-invalid'?: boolean }>
}) {
  const described = [hint && `${id}-hint`, message && `${id}-error`].filter(Boolean).join(' ')
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {cloneElement(children, {
        'aria-describedby': described || undefined,
        'aria-invalid': message ? true : undefined,
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

function Check({
  label,
  checked,
  onChange,
}: {
  label: string
  checked: boolean
  onChange: (value: boolean) => void
}) {
  return (
    <label className="check">
      <input type="checkbox" checked={checked} onChange={(event) => onChange(event.target.checked)} /> {label}
    </label>
  )
}

function OptionInput({
  id,
  option,
  value,
  message,
  collections,
  disabled,
  onChange,
}: {
  id: string
  option: OptionSpec
  value: unknown
  message?: string
  collections: FieldEditorProps['collections']
  disabled: boolean
  onChange: (value: unknown) => void
}) {
  if (option.kind === 'bool')
    return <Check label={option.label} checked={value === true} onChange={onChange} />
  const control =
    option.kind === 'collection' ? (
      <select
        id={id}
        value={typeof value === 'string' ? value : ''}
        disabled={disabled}
        onChange={(e) => onChange(e.target.value)}
      >
        <option value="">Choose a collection</option>
        {collections
          .filter((c) => c.type !== 'view')
          .map((c) => (
            <option key={c.name}>{c.name}</option>
          ))}
      </select>
    ) : option.kind === 'onDelete' ? (
      <select
        id={id}
        value={typeof value === 'string' ? value : 'set-null'}
        onChange={(e) => onChange(e.target.value)}
      >
        {onDeleteChoices.map(([choice, text]) => (
          <option key={choice} value={choice}>
            {text}
          </option>
        ))}
      </select>
    ) : option.kind === 'list' ? (
      <input
        id={id}
        value={Array.isArray(value) ? value.join(', ') : ''}
        onChange={(e) =>
          onChange(e.target.value === '' ? undefined : e.target.value.split(',').map((s) => s.trim()))
        }
      />
    ) : option.kind === 'number' ? (
      <input
        id={id}
        type="number"
        value={typeof value === 'number' ? value : ''}
        onChange={(e) => onChange(e.target.value === '' ? undefined : Number(e.target.value))}
      />
    ) : (
      <input
        id={id}
        value={typeof value === 'string' ? value : ''}
        onChange={(e) => onChange(e.target.value)}
      />
    )
  return (
    <Control id={id} label={option.label} hint={option.hint} message={message}>
      {control}
    </Control>
  )
}
