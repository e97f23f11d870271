/**
 * A page of 1,000 records with multi relations of up to 1,000 each may name a million
 * related ids; SQLite binds at most 32,766 values per statement and PostgreSQL 65,535.
 */
export const MAX_IDS_PER_STATEMENT = 1000

/** `items` in slices of at most `size`, for statements that bind one value per item. */
export function chunksOf<T>(items: T[], size = MAX_IDS_PER_STATEMENT): T[][] {
  const chunks: T[][] = []
  for (let start = 0; start < items.length; start += size) chunks.push(items.slice(start, start + size))
  return chunks
}
