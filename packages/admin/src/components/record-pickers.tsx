import { useQuery } from '@tanstack/react-query'
import { useState } from 'react'
import { ApiError } from '../api/problem'
import { fileUrl, listRecords } from '../api/records'
import type { CollectionModel, FieldDefinition, RecordModel } from '../api/types'
import { asList, type ControlProps, FieldShell, isMultiple } from './record-fields'
import { cellText } from './records-table'

/** A filter matching `term` in any of a collection's text fields, or its id. */
function searchFilter(target: CollectionModel, term: string): string {
  const quoted = JSON.stringify(term)
  const names = [
    'id',
    ...target.fields.filter((f) => ['text', 'email', 'url'].includes(f.type)).map((f) => f.name),
  ]
  return [...new Set(names)].map((name) => `${name} ~ ${quoted}`).join(' || ')
}

/** Related records by id, with a search over the target collection to add more. */
export function RelationControl({
  field,
  value,
  onChange,
  error,
  collections,
}: ControlProps & { collections: CollectionModel[] }) {
  const target = collections.find((c) => c.id === field.collection || c.name === field.collection)
  const chosen = asList(value)
  const multiple = isMultiple(field)
  const [term, setTerm] = useState('')
  const found = useQuery({
    queryKey: ['collections', target?.name, 'records', 'pick', term],
    queryFn: ({ signal }) =>
      listRecords(
        target!.name,
        { filter: searchFilter(target!, term), search: '', sort: '' },
        1,
        10,
        false,
        signal,
      ),
    enabled: Boolean(target) && term.trim() !== '',
  })
  const message = error instanceof ApiError ? error.fieldMessage(field.name) : undefined
  const choose = (id: string) => {
    onChange(multiple ? [...chosen.filter((item) => item !== id), id] : id)
    setTerm('')
  }
  return (
    <fieldset className="field relation">
      <legend>{`${field.name} (${target?.name ?? 'relation'})`}</legend>
      <ul className="chips">
        {chosen.map((id) => (
          <li key={id}>
            <code>{id}</code>
            <button
              type="button"
              onClick={() => onChange(multiple ? chosen.filter((item) => item !== id) : null)}
              aria-label={`Remove ${id} from ${field.name}`}
            >
              ×
            </button>
          </li>
        ))}
      </ul>
      {target && (
        <label>
          {`Find in ${target.name}`}
          <input type="search" value={term} onChange={(event) => setTerm(event.target.value)} />
        </label>
      )}
      {found.data && (
        <ul className="pick-list" aria-label={`Records of ${target?.name} found`}>
          {found.data.items.map((record: RecordModel) => (
            <li key={record.id}>
              <button type="button" onClick={() => choose(record.id)}>
                {`Choose ${record.id}`}
              </button>{' '}
              {cellText(
                Object.entries(record).find(
                  ([key]) => !['id', 'collectionId', 'collectionName'].includes(key),
                )?.[1],
              )}
            </li>
          ))}
          {found.data.items.length === 0 && <li>Nothing matches.</li>}
        </ul>
      )}
      {found.error && <p className="field-error">{found.error.message}</p>}
      {message && <p className="field-error">{`${field.name}: ${message}`}</p>}
    </fieldset>
  )
}

const IMAGE = /\.(jpe?g|png|webp|gif)$/i

/**
 * A file field: the stored files (images with a thumbnail), each removable, and new ones to
 * upload. Removals and additions are kept apart because the API takes them as `field-` and
 * `field+`.
 */
export function FileControl({
  field,
  collection,
  record,
  added,
  removed,
  onAdded,
  onRemoved,
  error,
}: {
  field: FieldDefinition
  collection: string
  record: RecordModel | null
  added: File[]
  removed: string[]
  onAdded: (files: File[]) => void
  onRemoved: (names: string[]) => void
  error: unknown
}) {
  const stored = record ? asList(record[field.name]).filter((name) => !removed.includes(name)) : []
  const multiple = isMultiple(field)
  return (
    <FieldShell field={field} error={error} hint={multiple ? `Up to ${field.maxSelect} files.` : 'One file.'}>
      {(id, describedBy, invalid) => (
        <>
          {stored.length + added.length > 0 && (
            <ul className="files">
              {stored.map((name) => (
                <li key={name}>
                  {IMAGE.test(name) && record && (
                    <img
                      src={fileUrl(collection, record.id, name, '100x100')}
                      alt={`Thumbnail of ${name}`}
                      width={50}
                      height={50}
                    />
                  )}
                  <a href={fileUrl(collection, record!.id, name)} target="_blank" rel="noreferrer">
                    {name}
                  </a>
                  <button
                    type="button"
                    onClick={() => onRemoved([...removed, name])}
                  >{`Remove ${name}`}</button>
                </li>
              ))}
              {added.map((file) => (
                <li key={file.name}>
                  {`${file.name} (to upload)`}
                  <button type="button" onClick={() => onAdded(added.filter((item) => item !== file))}>
                    {`Remove ${file.name}`}
                  </button>
                </li>
              ))}
            </ul>
          )}
          <input
            id={id}
            type="file"
            multiple={multiple}
            aria-describedby={describedBy}
            aria-invalid={invalid}
            onChange={(event) => {
              const files = Array.from(event.target.files ?? [])
              onAdded(multiple ? [...added, ...files] : files)
              // A single file field holds one file: a new one takes the stored one's place.
              if (!multiple && files.length > 0 && stored.length > 0) onRemoved([...removed, ...stored])
              event.target.value = ''
            }}
          />
        </>
      )}
    </FieldShell>
  )
}
