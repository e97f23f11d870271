import type { Kysely } from 'kysely'

/** How long a replica that failed to connect is passed over, in ms. */
const DOWN_MS = 5000

export interface ReplicaStatus {
  /** Replicas configured. */
  total: number
  /** Replicas passed over now, because their last connection attempt failed. */
  down: number
}

interface Replica {
  db: Kysely<any>
  downUntil: number
}

/**
 * Reads on PostgreSQL read replicas, taken in turn. A replica that cannot be reached costs
 * no answer: the read runs on the primary, and the replica is passed over for a few seconds
 * so that each request does not wait for it to fail again.
 */
export class ReadReplicas {
  readonly #replicas: Replica[]
  #next = 0

  constructor(
    private readonly primary: Kysely<any>,
    replicas: Kysely<any>[],
    private readonly now: () => number = () => Date.now(),
  ) {
    this.#replicas = replicas.map((db) => ({ db, downUntil: 0 }))
  }

  /** Runs `work` on one connection of the next replica that is up, or on the primary when none can be reached. */
  async read<T>(work: (db: Kysely<any>) => Promise<T>): Promise<T> {
    const replica = this.pick()
    if (!replica) return work(this.primary)
    let isConnected = false
    try {
      // One connection for the whole read: failing to get it is the only failure worth
      // a second try, since a statement that failed on a replica would fail on the primary too.
      return await replica.db.connection().execute((connection) => {
        isConnected = true
        return work(connection)
      })
    } catch (error) {
      if (isConnected) throw error
      replica.downUntil = this.now() + DOWN_MS
      return work(this.primary)
    }
  }

  status(): ReplicaStatus {
    const now = this.now()
    return {
      total: this.#replicas.length,
      down: this.#replicas.filter((replica) => replica.downUntil > now).length,
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.#replicas.map((replica) => replica.db.destroy()))
  }

  private pick(): Replica | undefined {
    const now = this.now()
    for (let tried = 0; tried < this.#replicas.length; tried++) {
      const replica = this.#replicas[this.#next]!
      this.#next = (this.#next + 1) % this.#replicas.length
      if (replica.downUntil <= now) return replica
    }
    return undefined
  }
}
