// What both floors (floor.js on SQLite, floor-postgres.js on PostgreSQL) answer, so
// their only difference is the database: Plinth's record shape, its list envelope, its
// 404, and the one filter shape the benchmark sends.

export const NOT_FOUND = {
  type: 'about:blank',
  title: 'Not Found',
  status: 404,
  detail: 'The record was not found.',
}

export const createBody = (relation) => ({
  type: 'object',
  required: ['title'],
  additionalProperties: false,
  properties: {
    title: { type: 'string', maxLength: 200 },
    [relation]: { type: 'string' },
    views: { type: 'number' },
  },
})

export const recordColumns = (relation) => `id, _version, created, updated, title, ${relation}, views`

/** Only the one filter shape the benchmark sends; Plinth compiles any filter, a floor need not. */
export const relationFilter = (relation) => new RegExp(`^${relation}\\s*=\\s*"([^"]*)"$`)

/**
 * Plinth answers system fields first, then the collection's own, then collectionId and
 * collectionName; the minimal floor answers the row as the database gives it.
 */
export function recordShape({ minimal, relation, name, collectionId }) {
  if (minimal) return (row) => row
  return (row) => ({
    id: row.id,
    created: row.created,
    updated: row.updated,
    title: row.title,
    [relation]: row[relation],
    views: row.views,
    collectionId,
    collectionName: name,
  })
}

/** The list query's page and size, or null when the filter is not the one the floor serves. */
export function listRequest(query, filterPattern) {
  const { filter = '', page = '1', perPage = '30' } = query
  const match = filterPattern.exec(filter)
  if (!match) return null
  const pageNumber = Number(page)
  const size = Number(perPage)
  return { parent: match[1], page: pageNumber, perPage: size, offset: (pageNumber - 1) * size }
}

export const listEnvelope = ({ page, perPage }, items, totalItems) => ({
  items,
  page,
  perPage,
  totalItems,
  totalPages: Math.ceil(totalItems / perPage),
})
