// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react'
import { useState } from 'react'
import { afterEach, describe, expect, test } from 'vitest'
import { ApiError } from '../api/problem'
import { definitionOf, draftOf, type FieldDraft, FieldEditor, fieldTypes } from './field-editor'

const collections = [
  { name: 'authors', type: 'base' as const },
  { name: 'users', type: 'auth' as const },
  { name: 'stats', type: 'view' as const },
]

let latest: FieldDraft[] = []

function Harness({ initial, error }: { initial: FieldDraft[]; error?: unknown }) {
  const [fields, setFields] = useState(initial)
  latest = fields
  return (
    <FieldEditor
      fields={fields}
      collections={collections}
      error={error}
      onChange={(next) => {
        latest = next
        setFields(next)
      }}
    />
  )
}

const group = (name: string) => screen.getByRole('group', { name })

afterEach(cleanup)

describe('FieldEditor', () => {
  test('adds a field of any type, with the options of that type', () => {
    render(<Harness initial={[]} />)
    fireEvent.click(screen.getByRole('button', { name: 'Add field' }))
    const row = group('Field new field 1')
    fireEvent.change(within(row).getByRole('textbox', { name: 'Name' }), { target: { value: 'cover' } })
    const type = within(group('Field cover')).getByRole('combobox', { name: 'Type' })
    expect(
      within(type)
        .getAllByRole('option')
        .map((option) => option.textContent),
    ).toEqual(Object.keys(fieldTypes))
    fireEvent.change(type, { target: { value: 'file' } })
    const file = group('Field cover')
    fireEvent.change(within(file).getByRole('spinbutton', { name: 'Max select' }), { target: { value: '2' } })
    fireEvent.change(within(file).getByRole('spinbutton', { name: 'Max size (bytes)' }), {
      target: { value: '1000' },
    })
    fireEvent.change(within(file).getByRole('textbox', { name: 'Media types' }), {
      target: { value: 'image/png, image/*,' },
    })
    fireEvent.change(within(file).getByRole('textbox', { name: 'Thumbnail sizes' }), {
      target: { value: '100x100' },
    })
    fireEvent.click(within(file).getByRole('checkbox', { name: 'Protected' }))
    fireEvent.click(within(file).getByRole('checkbox', { name: 'Required' }))
    expect(definitionOf(latest[0]!)).toEqual({
      name: 'cover',
      type: 'file',
      maxSelect: 2,
      maxSize: 1000,
      mimeTypes: ['image/png', 'image/*'],
      thumbs: ['100x100'],
      protected: true,
      required: true,
    })
  })

  test('a relation picks a target that is not a view, and what a delete of it does', () => {
    render(<Harness initial={[draftOf({ name: 'author', type: 'relation' })]} />)
    const row = group('Field author')
    const target = within(row).getByRole('combobox', { name: 'Target collection' })
    expect(
      within(target)
        .getAllByRole('option')
        .map((option) => option.textContent),
    ).toEqual(['Choose a collection', 'authors', 'users'])
    fireEvent.change(target, { target: { value: 'authors' } })
    fireEvent.change(within(row).getByRole('combobox', { name: 'When the target is deleted' }), {
      target: { value: 'cascade' },
    })
    expect(definitionOf(latest[0]!)).toEqual({
      name: 'author',
      type: 'relation',
      collection: 'authors',
      onDelete: 'cascade',
    })
  })

  test('a saved field keeps its id when renamed, and its type and target are fixed', () => {
    render(
      <Harness initial={[draftOf({ id: 'f1', name: 'author', type: 'relation', collection: 'authors' })]} />,
    )
    fireEvent.change(within(group('Field author')).getByRole('textbox', { name: 'Name' }), {
      target: { value: 'writer' },
    })
    const row = group('Field writer')
    expect((within(row).getByRole('combobox', { name: 'Type' }) as HTMLSelectElement).disabled).toBe(true)
    expect(
      (within(row).getByRole('combobox', { name: 'Target collection' }) as HTMLSelectElement).disabled,
    ).toBe(true)
    expect(definitionOf(latest[0]!)).toEqual({
      id: 'f1',
      name: 'writer',
      type: 'relation',
      collection: 'authors',
    })
  })

  test('shows the server’s errors beside the field and option they name', () => {
    const error = new ApiError(400, 'validation_failed', 'The definition is not valid.', {
      'fields.1.name': { code: 'invalid_name', message: 'must start with a letter' },
      'fields.0.max': { code: 'invalid_value', message: 'must be at least min' },
    })
    render(
      <Harness
        initial={[
          draftOf({ name: 'title', type: 'text', min: 5 }),
          draftOf({ name: '9lives', type: 'number' }),
        ]}
        error={error}
      />,
    )
    const description = (element: HTMLElement) =>
      (element.getAttribute('aria-describedby') ?? '')
        .split(' ')
        .map((id) => document.getElementById(id)?.textContent)
        .join(' ')
    const name = within(group('Field 9lives')).getByRole('textbox', { name: 'Name' })
    expect(name.getAttribute('aria-invalid')).toBe('true')
    expect(description(name)).toBe('Name: must start with a letter')
    expect(description(within(group('Field title')).getByRole('spinbutton', { name: 'Max length' }))).toBe(
      'Max length: must be at least min',
    )
  })

  test('removes a field by its name', () => {
    render(<Harness initial={[draftOf({ name: 'a', type: 'bool' }), draftOf({ name: 'b', type: 'json' })]} />)
    fireEvent.click(screen.getByRole('button', { name: 'Remove field a' }))
    expect(latest.map((field) => field.name)).toEqual(['b'])
    expect(screen.queryByRole('group', { name: 'Field a' })).toBeNull()
  })
})
