export { IDEMPOTENCY_TABLE, idempotency, pruneIdempotencyKeys } from './idempotency.js'
