// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen } from '@testing-library/react'
import { useState } from 'react'
import { afterEach, describe, expect, test } from 'vitest'
import { FilterInput } from './filter-input'
import { complete, type FilterSchema, tokenize } from './filter-syntax'

const schema: FilterSchema = {
  collection: {
    name: 'posts',
    fields: [
      { name: 'id', type: 'text' },
      { name: 'title', type: 'text' },
      { name: 'author', type: 'relation', collection: 'authors' },
      { name: 'tags', type: 'select' },
    ],
  },
  collections: [
    { name: 'posts', type: 'base', fields: [{ name: 'title', type: 'text' }] },
    {
      name: 'authors',
      type: 'base',
      fields: [
        { name: 'name', type: 'text' },
        { name: 'team', type: 'relation', collection: 'teams' },
      ],
    },
    { name: 'teams', type: 'base', fields: [{ name: 'motto', type: 'text' }] },
    {
      name: 'users',
      type: 'auth',
      fields: [
        { name: 'email', type: 'email' },
        { name: 'role', type: 'select' },
      ],
    },
  ],
}

const suggestions = (text: string) => complete(text, text.length, schema).suggestions

afterEach(cleanup)

describe('tokenize', () => {
  test('colours every part of the language and keeps all the text', () => {
    const text = `author.name ?~ "o'k" && @request.auth.id != null || (views >= -1.5e3 && tags:length > 0) # `
    const tokens = tokenize(text).filter((token) => token.kind !== 'space')
    expect(tokens.map((token) => [token.kind, token.text])).toEqual([
      ['field', 'author.name'],
      ['operator', '?~'],
      ['string', `"o'k"`],
      ['operator', '&&'],
      ['macro', '@request.auth.id'],
      ['operator', '!='],
      ['literal', 'null'],
      ['operator', '||'],
      ['paren', '('],
      ['field', 'views'],
      ['operator', '>='],
      ['number', '-1.5e3'],
      ['operator', '&&'],
      ['field', 'tags'],
      ['modifier', ':length'],
      ['operator', '>'],
      ['number', '0'],
      ['paren', ')'],
      ['unknown', '#'],
    ])
    expect(
      tokenize(text)
        .map((token) => token.text)
        .join(''),
    ).toBe(text)
  })

  test('reads escapes, an unfinished string and @collection with an alias', () => {
    expect(tokenize(String.raw`"a\"b"`)).toEqual([{ kind: 'string', text: String.raw`"a\"b"`, start: 0 }])
    expect(tokenize('"open')).toEqual([{ kind: 'string', text: '"open', start: 0 }])
    expect(tokenize('@collection.members:mine.user')[0]).toEqual({
      kind: 'macro',
      text: '@collection.members:mine.user',
      start: 0,
    })
  })
})

describe('complete', () => {
  test('offers the fields, a relation also as the start of a path', () => {
    expect(suggestions('')).toEqual(['id', 'title', 'author', 'author.', 'tags'])
    expect(suggestions('ti')).toEqual(['title'])
    expect(suggestions('title = "x" && au')).toEqual(['author', 'author.'])
  })

  test('follows relations through paths', () => {
    expect(suggestions('author.')).toEqual(['author.name', 'author.team', 'author.team.'])
    expect(suggestions('author.team.m')).toEqual(['author.team.motto'])
    expect(suggestions('title.')).toEqual([])
  })

  test('offers the macros, @request.auth fields and @collection lookups', () => {
    expect(suggestions('@')).toContain('@request.auth.')
    expect(suggestions('@to')).toEqual(['@todayStart', '@todayEnd'])
    expect(suggestions('@request.auth.')).toEqual([
      '@request.auth.collectionName',
      '@request.auth.email',
      '@request.auth.role',
    ])
    expect(suggestions('@request.body.au')).toEqual(['@request.body.author', '@request.body.author.'])
    expect(suggestions('@collection.a')).toEqual(['@collection.authors.'])
    expect(suggestions('@collection.authors.team.')).toEqual(['@collection.authors.team.motto'])
  })

  test('offers nothing inside a string, and replaces the whole word under the cursor', () => {
    expect(suggestions('title = "au')).toEqual([])
    expect(complete('aut = 1', 2, schema)).toEqual({ from: 0, to: 3, suggestions: ['author', 'author.'] })
  })
})

function Harness({ initial = '' }: { initial?: string }) {
  const [value, setValue] = useState(initial)
  return (
    <>
      <FilterInput
        label="List rule"
        value={value}
        onChange={setValue}
        schema={schema}
        error="unknown field nope"
      />
      <output>{value}</output>
    </>
  )
}

const textbox = () => screen.getByRole('textbox', { name: 'List rule' }) as HTMLTextAreaElement

function type(text: string) {
  const input = textbox()
  fireEvent.change(input, { target: { value: text, selectionStart: text.length } })
  input.setSelectionRange(text.length, text.length)
}

describe('FilterInput', () => {
  test('is a labelled textbox whose error describes it', () => {
    render(<Harness />)
    expect(textbox().getAttribute('aria-invalid')).toBe('true')
    const described = textbox().getAttribute('aria-describedby') ?? ''
    expect(document.getElementById(described)?.textContent).toBe('List rule: unknown field nope')
  })

  test('highlights what is typed', () => {
    const { container } = render(<Harness initial={'title = "x"'} />)
    expect(container.querySelector('.tok-field')?.textContent).toBe('title')
    expect(container.querySelector('.tok-string')?.textContent).toBe('"x"')
  })

  test('suggests as you type; arrows move, Enter takes the chosen one', () => {
    render(<Harness />)
    type('author.')
    const options = screen.getAllByRole('option')
    expect(options.map((option) => option.textContent)).toEqual([
      'author.name',
      'author.team',
      'author.team.',
    ])
    expect(textbox().getAttribute('aria-activedescendant')).toBe(options[0]!.id)
    fireEvent.keyDown(textbox(), { key: 'ArrowDown' })
    expect(screen.getByRole('option', { selected: true }).textContent).toBe('author.team')
    fireEvent.keyDown(textbox(), { key: 'ArrowUp' })
    fireEvent.keyDown(textbox(), { key: 'ArrowUp' })
    expect(screen.getByRole('option', { selected: true }).textContent).toBe('author.team.')
    fireEvent.keyDown(textbox(), { key: 'Enter' })
    expect(textbox().value).toBe('author.team.')
    // A path that goes on offers its next step straight away.
    expect(screen.getAllByRole('option').map((option) => option.textContent)).toEqual(['author.team.motto'])
    fireEvent.keyDown(textbox(), { key: 'Tab' })
    expect(textbox().value).toBe('author.team.motto')
    expect(screen.queryByRole('listbox')).toBeNull()
  })

  test('offers nothing before a word is begun, unless asked with Ctrl+Space', () => {
    render(<Harness />)
    type('title = "x" ')
    expect(screen.queryByRole('listbox')).toBeNull()
    fireEvent.keyDown(textbox(), { key: ' ', ctrlKey: true })
    expect(screen.getAllByRole('option').map((option) => option.textContent)).toEqual([
      'id',
      'title',
      'author',
      'author.',
      'tags',
    ])
  })

  test('Escape closes the list and Ctrl+Space opens it again', () => {
    render(<Harness />)
    type('@request.au')
    expect(screen.getByRole('listbox', { name: 'Suggestions for List rule' })).toBeTruthy()
    fireEvent.keyDown(textbox(), { key: 'Escape' })
    expect(screen.queryByRole('listbox')).toBeNull()
    fireEvent.keyDown(textbox(), { key: ' ', ctrlKey: true })
    expect(screen.getByRole('option').textContent).toBe('@request.auth.')
    fireEvent.mouseDown(screen.getByRole('option'))
    expect(textbox().value).toBe('@request.auth.')
  })
})
