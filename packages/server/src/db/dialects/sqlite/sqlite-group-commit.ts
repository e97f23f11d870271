import { CompiledQuery, type Kysely } from 'kysely'

/** Past this many, a group commits and the transactions still waiting start the next one. */
const MAX_MEMBERS = 64

const SAVEPOINT = CompiledQuery.raw('savepoint member')
const RELEASE = CompiledQuery.raw('release member')
const ROLLBACK_TO = CompiledQuery.raw('rollback to member')

interface Member {
  work: (trx: Kysely<any>) => Promise<unknown>
  resolve: (value: unknown) => void
  reject: (error: unknown) => void
}

/**
 * SQLite runs one write transaction at a time, and with synchronous=FULL each commit waits
 * for the disk: that wait, not the statements, bounds how many writes a second one process
 * makes. Transactions that ask while one is running join it instead of queueing behind its
 * commit: each runs in a savepoint of its own, so a failure undoes only its own work, and
 * all of them commit together. A transaction's promise settles only after that commit, so
 * nothing is answered before it is on disk. A group begins one turn of the event loop after
 * its first transaction asked, so the requests already read join it, and it holds the write
 * lock only while its members run; plain reads wait for the commit, so none sees a write
 * that is not yet committed.
 */
export class GroupCommit {
  #waiting: Member[] = []
  #running = false

  constructor(private readonly db: Kysely<any>) {}

  run<T>(work: (trx: Kysely<any>) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#waiting.push({ work, resolve: resolve as (value: unknown) => void, reject })
      if (this.#running) return
      this.#running = true
      // The requests already read in this turn of the event loop ask before the group begins.
      setImmediate(() => void this.#commitGroup())
    })
  }

  async #commitGroup(): Promise<void> {
    const group: Member[] = []
    const succeeded: { member: Member; value: unknown }[] = []
    const join = () => {
      const next = group.length < MAX_MEMBERS ? this.#waiting.shift() : undefined
      if (next) group.push(next)
      return next
    }
    try {
      await this.db.transaction().execute(async (trx) => {
        for (let member = join(); member; member = join()) {
          await trx.executeQuery(SAVEPOINT)
          try {
            const value = await member.work(trx)
            await trx.executeQuery(RELEASE)
            succeeded.push({ member, value })
          } catch (error) {
            member.reject(error)
            // When SQLite has already rolled back the whole transaction (a full disk), the
            // savepoint is gone and the group fails for the member's reason.
            await undo(trx).catch(() => {
              throw error
            })
          }
        }
      })
      for (const { member, value } of succeeded) member.resolve(value)
    } catch (error) {
      // Nothing of the group was committed. A promise settles once, so the members that
      // failed on their own keep their own error. When the group could not even begin (the
      // database locked by another process past the busy timeout), those waiting fail alike.
      for (const member of group.length > 0 ? group : this.#waiting.splice(0)) member.reject(error)
    } finally {
      if (this.#waiting.length > 0) void this.#commitGroup()
      else this.#running = false
    }
  }
}

async function undo(trx: Kysely<any>): Promise<void> {
  await trx.executeQuery(ROLLBACK_TO)
  await trx.executeQuery(RELEASE)
}
