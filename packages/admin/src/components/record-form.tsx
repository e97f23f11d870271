import { useMutation, useQueryClient } from '@tanstack/react-query'
import { type FormEvent, useEffect, useRef, useState } from 'react'
import { api } from '../api/client'
import { queryKeys } from '../api/queries'
import { type FileChanges, recordsPath, saveRecord } from '../api/records'
import type { CollectionModel, FieldDefinition, RecordModel } from '../api/types'
import { FormError } from './form'
import {
  BoolControl,
  DateControl,
  EditorControl,
  INVALID_JSON,
  JsonControl,
  SelectControl,
  TextControl,
} from './record-fields'
import { FileControl, RelationControl } from './record-pickers'

/** Fields a person writes: not the id of an existing record, not those Plinth sets itself. */
function editableFields(collection: CollectionModel, record: RecordModel | null): FieldDefinition[] {
  return collection.fields.filter(
    (field) => field.type !== 'autodate' && field.name !== 'tokenKey' && !(field.name === 'id' && record),
  )
}

/**
 * A record in a modal dialog: a control per field type, the server's message beside the field
 * it concerns, and Delete for an existing record. Closes on a successful save or delete.
 */
export function RecordForm({
  collection,
  collections,
  record,
  onClose,
}: {
  collection: CollectionModel
  collections: CollectionModel[]
  record: RecordModel | null
  onClose: () => void
}) {
  const dialog = useRef<HTMLDialogElement>(null)
  const queryClient = useQueryClient()
  const fields = editableFields(collection, record)
  const [values, setValues] = useState<Record<string, unknown>>(() =>
    Object.fromEntries(
      fields
        .filter((field) => field.type !== 'file' && field.type !== 'password')
        .map((field) => [field.name, record?.[field.name] ?? null]),
    ),
  )
  const [files, setFiles] = useState<FileChanges>({ added: {}, removed: {} })
  const [jsonInvalid, setJsonInvalid] = useState(false)
  useEffect(() => {
    dialog.current?.showModal()
  }, [])

  const done = () => queryClient.invalidateQueries({ queryKey: queryKeys.records(collection.name) })
  const save = useMutation({
    mutationFn: () => {
      const body: Record<string, unknown> = {}
      // A new record sends what was filled in; an existing one only what changed.
      for (const [name, value] of Object.entries(values)) {
        if (
          record
            ? JSON.stringify(value) === JSON.stringify(record[name] ?? null)
            : value === null || value === ''
        )
          continue
        body[name] = value
      }
      if (body.password) body.passwordConfirm = body.password
      return saveRecord(collection.name, record?.id, body, files)
    },
    onSuccess: async () => {
      await done()
      onClose()
    },
  })
  const remove = useMutation({
    mutationFn: () => api(recordsPath(collection.name, record!.id), { method: 'DELETE' }),
    onSuccess: async () => {
      await done()
      onClose()
    },
  })
  const set = (name: string) => (value: unknown) => {
    const next = { ...values, [name]: value }
    setValues(next)
    setJsonInvalid(Object.values(next).includes(INVALID_JSON))
  }
  const onSubmit = (event: FormEvent) => {
    event.preventDefault()
    if (!jsonInvalid) save.mutate()
  }
  const title = record ? `Edit record ${record.id}` : `New record in ${collection.name}`
  return (
    <dialog ref={dialog} className="record-dialog" aria-label={title} onClose={onClose}>
      <form onSubmit={onSubmit} noValidate>
        <h2>{title}</h2>
        {fields.map((field) => {
          const props = { field, value: values[field.name], onChange: set(field.name), error: save.error }
          switch (field.type) {
            case 'bool':
              return <BoolControl key={field.name} {...props} />
            case 'date':
              return <DateControl key={field.name} {...props} />
            case 'select':
              return <SelectControl key={field.name} {...props} />
            case 'json':
              return <JsonControl key={field.name} {...props} />
            case 'editor':
              return <EditorControl key={field.name} {...props} />
            case 'relation':
              return <RelationControl key={field.name} {...props} collections={collections} />
            case 'file':
              return (
                <FileControl
                  key={field.name}
                  field={field}
                  collection={collection.name}
                  record={record}
                  added={files.added[field.name] ?? []}
                  removed={files.removed[field.name] ?? []}
                  onAdded={(list) =>
                    setFiles((current) => ({ ...current, added: { ...current.added, [field.name]: list } }))
                  }
                  onRemoved={(names) =>
                    setFiles((current) => ({
                      ...current,
                      removed: { ...current.removed, [field.name]: names },
                    }))
                  }
                  error={save.error}
                />
              )
            default:
              return <TextControl key={field.name} {...props} />
          }
        })}
        <FormError error={save.error ?? remove.error} fields={fields.map((field) => field.name)} />
        {jsonInvalid && <p className="field-error">A JSON field does not parse; fix it to save.</p>}
        <div className="form-actions">
          <button type="submit" className="primary" disabled={save.isPending || jsonInvalid}>
            {record ? 'Save record' : 'Create record'}
          </button>
          <button type="button" onClick={() => dialog.current?.close()}>
            Cancel
          </button>
          {record && (
            <button
              type="button"
              className="danger"
              disabled={remove.isPending}
              onClick={() => remove.mutate()}
            >
              Delete record
            </button>
          )}
        </div>
      </form>
    </dialog>
  )
}
