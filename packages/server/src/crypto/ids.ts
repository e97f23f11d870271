import { randomFillSync } from 'node:crypto'
import { v7 as uuidv7 } from 'uuid'

/**
 * Random bytes for ids and versions come from a pool refilled 4 KiB at a time: asking the
 * kernel costs as much for 16 bytes as for 4,096, and a create needs several ids. (Node's
 * own `randomUUID` pools the same way.) Secrets do not come from here but from
 * `randomBytes`, so no secret is ever held in memory before it is used.
 */
const POOL_BYTES = 4096
let pool = Buffer.alloc(0)
let taken = 0

function pooledRandomBytes(size: number): Buffer {
  if (taken + size > pool.length) {
    // A new buffer each time: the views handed out of the old one stay theirs.
    pool = randomFillSync(Buffer.allocUnsafeSlow(POOL_BYTES))
    taken = 0
  }
  const bytes = pool.subarray(taken, taken + size)
  taken += size
  return bytes
}

/** The last id's millisecond and counter: ids made in one millisecond still sort in the order made. */
const clock = { msecs: Number.NEGATIVE_INFINITY, seq: 0 }

/** A UUIDv7: time-ordered, so new rows land at the end of the primary key's index. */
export function newId(now = Date.now()): string {
  const random = pooledRandomBytes(16)
  if (now > clock.msecs) {
    clock.msecs = now
    clock.seq = random.readUInt32BE(6) & 0x7fffffff
  } else {
    clock.seq = (clock.seq + 1) | 0
    if (clock.seq === 0) clock.msecs++
  }
  return uuidv7({ random, msecs: clock.msecs, seq: clock.seq })
}

/** A short random string that differs on every call; not a secret. */
export function randomTag(bytes: number): string {
  return pooledRandomBytes(bytes).toString('base64url')
}
