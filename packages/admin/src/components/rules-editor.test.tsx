// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react'
import { type ReactNode, useState } from 'react'
import { afterEach, describe, expect, test } from 'vitest'
import { ApiError } from '../api/problem'
import type { IndexDefinition, SearchOptions } from '../api/types'
import { IndexesEditor, SearchEditor } from './collection-options'
import { type Rules, RulesEditor } from './rules-editor'

const locked: Rules = { listRule: null, viewRule: '', createRule: null, updateRule: null, deleteRule: null }
const schema = { collections: [] }
let latest: unknown

function Harness<T>({
  initial,
  editor,
}: {
  initial: T
  editor: (value: T, set: (next: T) => void) => ReactNode
}) {
  const [value, setValue] = useState(initial)
  latest = value
  return <>{editor(value, (next) => setValue(next))}</>
}

afterEach(cleanup)

describe('RulesEditor', () => {
  test('says which rules are locked and which are open to everyone, and switches between them', () => {
    const error = new ApiError(400, 'validation_failed', 'A rule is invalid.', {
      deleteRule: { code: 'invalid_rule', message: 'must be null: the records of a view are read-only' },
    })
    render(
      <Harness
        initial={locked}
        editor={(rules, set) => <RulesEditor rules={rules} onChange={set} schema={schema} error={error} />}
      />,
    )
    const list = screen.getByRole('group', { name: 'List rule' })
    expect(list.textContent).toContain('Locked (null): only superusers.')
    const view = screen.getByRole('textbox', { name: 'View rule' })
    const hint = document.getElementById(view.getAttribute('aria-describedby') ?? '')
    expect(hint?.textContent).toBe('Empty: everyone reads a record, guests included.')
    expect(screen.getByRole('group', { name: 'Delete rule' }).textContent).toContain(
      'Delete rule: must be null: the records of a view are read-only',
    )

    fireEvent.click(within(list).getByRole('checkbox', { name: 'Locked: superusers only' }))
    expect((latest as Rules).listRule).toBe('')
    fireEvent.click(within(screen.getByRole('group', { name: 'View rule' })).getByRole('checkbox'))
    expect((latest as Rules).viewRule).toBeNull()
  })
})

describe('IndexesEditor and SearchEditor', () => {
  test('an index is a list of fields, unique or not', () => {
    render(
      <Harness<IndexDefinition[]>
        initial={[]}
        editor={(indexes, set) => <IndexesEditor indexes={indexes} onChange={set} />}
      />,
    )
    fireEvent.click(screen.getByRole('button', { name: 'Add index' }))
    fireEvent.change(screen.getByRole('textbox', { name: 'Index 1 fields' }), {
      target: { value: 'author, created' },
    })
    fireEvent.click(screen.getByRole('checkbox', { name: 'Unique (index 1)' }))
    expect(latest).toEqual([{ fields: ['author', 'created'], unique: true }])
    fireEvent.click(screen.getByRole('button', { name: 'Remove index 1' }))
    expect(latest).toEqual([])
  })

  test('search takes fields, a language and fuzzy, and its errors show beside them', () => {
    const error = new ApiError(400, 'validation_failed', 'Invalid search.', {
      'search.fields': { code: 'invalid_value', message: 'body is not a text field' },
    })
    render(
      <Harness<SearchOptions | null>
        initial={null}
        editor={(search, set) => <SearchEditor search={search} onChange={set} error={error} />}
      />,
    )
    fireEvent.click(screen.getByRole('checkbox', { name: 'Full-text search' }))
    fireEvent.change(screen.getByRole('textbox', { name: 'Searched fields' }), {
      target: { value: 'title, body' },
    })
    fireEvent.change(screen.getByRole('combobox', { name: 'Language' }), { target: { value: 'german' } })
    fireEvent.click(screen.getByRole('checkbox', { name: 'Find words with a typo (fuzzy)' }))
    expect(latest).toEqual({ fields: ['title', 'body'], language: 'german', fuzzy: true })
    const fields = screen.getByRole('textbox', { name: 'Searched fields' })
    expect(fields.getAttribute('aria-invalid')).toBe('true')
    expect(screen.getByText('Searched fields: body is not a text field').id).toBe(
      fields.getAttribute('aria-describedby')?.split(' ')[1],
    )
    fireEvent.click(screen.getByRole('checkbox', { name: 'Full-text search' }))
    expect(latest).toBeNull()
  })
})
