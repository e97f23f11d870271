import { CompiledQuery } from 'kysely'
import { describe, expect, test, vi } from 'vitest'
import { StatementShapes } from './statement-shapes.js'

describe('StatementShapes', () => {
  test('builds a shape once and binds later values to its SQL', () => {
    const shapes = new StatementShapes()
    const build = vi.fn((values: unknown[]) =>
      CompiledQuery.raw('insert into t (a, b) values (?, ?)', values),
    )
    shapes.compile('a,b', [1, 'x'], () => build([1, 'x']))
    const second = shapes.compile('a,b', [2, 'y'], () => build([2, 'y']))
    expect(build).toHaveBeenCalledTimes(1)
    expect(second.sql).toBe('insert into t (a, b) values (?, ?)')
    expect(second.parameters).toEqual([2, 'y'])
  })

  test('a statement that binds anything but the values, in order, is built every time', () => {
    const shapes = new StatementShapes()
    const build = vi.fn(() => CompiledQuery.raw('insert into t (a) values (?)', [1]))
    shapes.compile('a,b', [1, undefined], build)
    shapes.compile('a,b', [1, 2], build)
    expect(build).toHaveBeenCalledTimes(2)
    const reordered = vi.fn(() => CompiledQuery.raw('insert into t (b, a) values (?, ?)', ['x', 1]))
    shapes.compile('a,b reordered', [1, 'x'], reordered)
    shapes.compile('a,b reordered', [1, 'x'], reordered)
    expect(reordered).toHaveBeenCalledTimes(2)
  })

  test('keeps a bounded number of shapes, so clients choosing columns cannot grow it', () => {
    const shapes = new StatementShapes()
    for (let i = 0; i < 200; i++) shapes.compile(`shape ${i}`, [i], () => CompiledQuery.raw('select ?', [i]))
    const build = vi.fn(() => CompiledQuery.raw('select ?', [7]))
    shapes.compile('shape 199', [7], build)
    shapes.compile('shape 199', [7], build)
    expect(build).toHaveBeenCalledTimes(2)
  })
})
