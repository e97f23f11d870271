import { BadRequestError } from '../errors/index.js'

export const DEFAULT_PER_PAGE = 30
export const MAX_PER_PAGE = 500
const MAX_PAGE = 1_000_000

export interface ListParams {
  page: number
  perPage: number
  filter: string
  sort: string
  fields?: string
  expand?: string
  skipTotal: boolean
}

const known = new Set(['page', 'perPage', 'filter', 'sort', 'fields', 'expand', 'skipTotal'])

function invalid(name: string, message: string): BadRequestError {
  return new BadRequestError(`Invalid query parameter ${name}: ${message}.`, 'invalid_query', {
    [name]: { code: 'invalid_query', message },
  })
}

function single(query: Record<string, unknown>, name: string): string | undefined {
  const value = query[name]
  if (value === undefined) return undefined
  if (typeof value !== 'string') throw invalid(name, 'must be given once')
  return value
}

function wholeNumber(query: Record<string, unknown>, name: string, fallback: number, max: number): number {
  const raw = single(query, name)
  if (raw === undefined || raw === '') return fallback
  if (!/^\d{1,9}$/.test(raw)) throw invalid(name, 'must be a whole number')
  const value = Number(raw)
  if (value < 1 || value > max) throw invalid(name, `must be from 1 to ${max}`)
  return value
}

/** Reads the list query; unknown parameters are refused so that typos are not silently ignored. */
export function parseListParams(query: Record<string, unknown>): ListParams {
  for (const name of Object.keys(query)) if (!known.has(name)) throw invalid(name, 'is not a list parameter')
  const skipTotal = single(query, 'skipTotal')
  if (skipTotal !== undefined && !['', '0', '1', 'true', 'false'].includes(skipTotal))
    throw invalid('skipTotal', 'must be 1/true or 0/false')
  return {
    page: wholeNumber(query, 'page', 1, MAX_PAGE),
    perPage: wholeNumber(query, 'perPage', DEFAULT_PER_PAGE, MAX_PER_PAGE),
    filter: single(query, 'filter') ?? '',
    sort: single(query, 'sort') ?? '',
    fields: single(query, 'fields'),
    expand: single(query, 'expand'),
    skipTotal: skipTotal === '1' || skipTotal === 'true' || skipTotal === '',
  }
}

/** `fields` and `expand` are the only query parameters of a single record read. */
export function parseReadParams(query: Record<string, unknown>): { fields?: string; expand?: string } {
  for (const name of Object.keys(query))
    if (name !== 'fields' && name !== 'expand') throw invalid(name, 'is not a parameter of this endpoint')
  return { fields: single(query, 'fields'), expand: single(query, 'expand') }
}
