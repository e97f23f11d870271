import { BadRequestError } from '../errors/index.js'
import { parseSearch } from '../query/index.js'

export const DEFAULT_PER_PAGE = 30
// The PocketBase SDK's getFullList asks for pages of 1,000; a smaller cap would break it.
export const MAX_PER_PAGE = 1000
const MAX_PAGE = 1_000_000

export interface ListParams {
  page: number
  perPage: number
  filter: string
  sort: string
  fields?: string
  expand?: string
  skipTotal: boolean
  /** Full-text search terms; blank or absent lists without searching. */
  search?: string
  /** Add `highlight` to each record of a search. */
  highlight?: boolean
}

const known = new Set([
  'page',
  'perPage',
  'filter',
  'sort',
  'fields',
  'expand',
  'skipTotal',
  'search',
  'highlight',
])

/** The 400 of a query parameter, naming it in `errors`. */
export function invalidQuery(name: string, message: string): BadRequestError {
  return new BadRequestError(`Invalid query parameter ${name}: ${message}.`, 'invalid_query', {
    [name]: { code: 'invalid_query', message },
  })
}

function single(query: Record<string, unknown>, name: string): string | undefined {
  const value = query[name]
  if (value === undefined) return undefined
  if (typeof value !== 'string') throw invalidQuery(name, 'must be given once')
  return value
}

function wholeNumber(query: Record<string, unknown>, name: string, fallback: number, max: number): number {
  const raw = single(query, name)
  if (raw === undefined || raw === '') return fallback
  if (!/^\d{1,9}$/.test(raw)) throw invalidQuery(name, 'must be a whole number')
  const value = Number(raw)
  if (value < 1 || value > max) throw invalidQuery(name, `must be from 1 to ${max}`)
  return value
}

function flag(query: Record<string, unknown>, name: string): boolean {
  const value = single(query, name)
  if (value !== undefined && !['', '0', '1', 'true', 'false'].includes(value))
    throw invalidQuery(name, 'must be 1/true or 0/false')
  return value === '1' || value === 'true' || value === ''
}

/** Reads the list query; unknown parameters are refused so that typos are not silently ignored. */
export function parseListParams(query: Record<string, unknown>): ListParams {
  for (const name of Object.keys(query))
    if (!known.has(name)) throw invalidQuery(name, 'is not a list parameter')
  const search = single(query, 'search')?.trim() ?? ''
  // Checked here, before the collection is read, so a bad search is a 400 whatever it names.
  if (search !== '') parseSearch(search)
  const highlight = flag(query, 'highlight')
  if (highlight && search === '') throw invalidQuery('highlight', 'needs a search whose matches it marks')
  return {
    page: wholeNumber(query, 'page', 1, MAX_PAGE),
    perPage: wholeNumber(query, 'perPage', DEFAULT_PER_PAGE, MAX_PER_PAGE),
    filter: single(query, 'filter') ?? '',
    sort: single(query, 'sort') ?? '',
    fields: single(query, 'fields'),
    expand: single(query, 'expand'),
    skipTotal: flag(query, 'skipTotal'),
    search,
    highlight,
  }
}

/** The parameters of an endpoint that takes only `known` ones, each at most once. */
export function readQuery<Name extends string>(
  query: Record<string, unknown>,
  known: readonly Name[],
): Partial<Record<Name, string>> {
  for (const name of Object.keys(query))
    if (!(known as readonly string[]).includes(name))
      throw invalidQuery(name, 'is not a parameter of this endpoint')
  const values: Partial<Record<Name, string>> = {}
  for (const name of known) {
    const value = single(query, name)
    if (value !== undefined) values[name] = value
  }
  return values
}

/** `fields` and `expand` are the only query parameters of a single record read. */
export function parseReadParams(query: Record<string, unknown>): { fields?: string; expand?: string } {
  return readQuery(query, ['fields', 'expand'])
}
