// `npm run bench:events`: creates with the outbox, one webhook and one broker (RabbitMQ)
// on, against the same build with no event consumers, on copies of the same database.
// Target: ratio >= 0.85. Skipped, with the reason, when RabbitMQ does not answer.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Connection } from 'rabbitmq-client'
import { call, freePort, plinthServeArgs, runLoad, startServer, stopServer } from './processes.js'
import { compare, NOISY_CORES } from './report.js'
import { CREATE_TITLE_PREFIX, databaseFile, removeCreatedPosts, SUPERUSER, seed } from './seed.js'
import { number, plinthEnv, until } from './settings.js'

const TARGET = 0.85
const AMQP_URL = process.env.BENCH_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672'
/** The exchange Plinth publishes to; the bench binds a queue of its own to it. */
const EXCHANGE = 'plinth.events'

const settings = {
  duration: number('BENCH_DURATION', 10),
  warmup: number('BENCH_WARMUP', 2),
  connections: number('BENCH_CONNECTIONS', 10),
  rounds: number('BENCH_ROUNDS', 3),
  posts: number('BENCH_EVENTS_POSTS', 10_000),
  authors: number('BENCH_AUTHORS', 100),
}

async function startPlinth(name, dataDir, extraEnv) {
  const port = await freePort()
  return startServer({
    name,
    args: plinthServeArgs(dataDir, port),
    env: plinthEnv('full', extraEnv),
    port,
  })
}

async function signIn(server) {
  const response = await call(`${server.url}/api/collections/_superusers/auth-with-password`, {
    method: 'POST',
    body: { identity: SUPERUSER.email, password: SUPERUSER.password },
  })
  if (response.status !== 200)
    throw new Error(`sign-in to ${server.name} failed: ${response.status} ${response.text}`)
  return JSON.parse(response.text).token
}

/** Counts what reaches it: the webhook's receiver, answering 204 at once. */
async function startReceiver() {
  let received = 0
  const server = createServer((request, response) => {
    request.resume()
    request.on('end', () => {
      received++
      response.writeHead(204).end()
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${server.address().port}/hook`,
    received: () => received,
    close: () => new Promise((resolve) => server.close(resolve)),
  }
}

/** An exclusive queue bound to the post events, counting what RabbitMQ routes to it. */
async function startBrokerReader() {
  const connection = new Connection({ url: AMQP_URL, connectionTimeout: 3000 })
  connection.on('error', () => {})
  try {
    await connection.onConnect(3000)
  } catch (error) {
    await connection.close()
    return {
      skipped: `RabbitMQ does not answer at ${new URL(AMQP_URL).host} (${error.message}; set BENCH_AMQP_URL)`,
    }
  }
  let received = 0
  const queue = `bench.events.${process.pid}`
  const consumer = connection.createConsumer(
    {
      queue,
      noAck: true,
      queueOptions: { exclusive: true, autoDelete: true },
      exchanges: [{ exchange: EXCHANGE, type: 'topic', durable: true }],
      queueBindings: [{ queue, exchange: EXCHANGE, routingKey: 'posts.*' }],
    },
    () => {
      received++
    },
  )
  await new Promise((resolve) => consumer.once('ready', resolve))
  return {
    received: () => received,
    async close() {
      await consumer.close()
      await connection.close()
    },
  }
}

async function registerWebhook(server, token, url) {
  const response = await call(`${server.url}/api/webhooks`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: { url, collections: ['posts'], actions: ['create'] },
  })
  if (response.status !== 201)
    throw new Error(`registering the webhook failed: ${response.status} ${response.text}`)
}

async function measure(server, token, seeded, dataDir, warmup) {
  const plan = join(dataDir, `plan-${server.name}.json`)
  writeFileSync(
    plan,
    JSON.stringify({
      url: server.url,
      serverPid: server.child.pid,
      kind: 'create',
      collection: 'posts',
      connections: settings.connections,
      duration: settings.duration,
      warmup,
      headers: { authorization: `Bearer ${token}` },
      relation: 'author',
      recordIds: seeded.postIds,
      parentIds: seeded.authorIds,
      titlePrefix: CREATE_TITLE_PREFIX,
    }),
  )
  process.stdout.write(`  create: ${server.name}… `)
  const result = await runLoad(plan)
  const other = result.cpu.otherCores + result.cpu.stealCores
  const note = other >= NOISY_CORES ? ` (other processes used ${other.toFixed(2)} cores meanwhile)` : ''
  process.stdout.write(`${Math.round(result.requestsPerSecond)} req/s${note}\n`)
  return result
}

async function main() {
  const reader = await startBrokerReader()
  if (reader.skipped) {
    console.log(`Events: skipped (${reader.skipped})`)
    return
  }
  const plainDir = mkdtempSync(join(tmpdir(), 'plinth-bench-events-'))
  const eventsDir = `${plainDir}-on`
  const servers = []
  const receiver = await startReceiver()
  try {
    console.log(
      `Creates with the outbox, a webhook and RabbitMQ on, against none (${settings.posts} posts seeded)`,
    )
    const seeded = await seed({
      dataDir: plainDir,
      posts: settings.posts,
      authors: settings.authors,
      sync: 'full',
    })
    // Two copies of one database: each server's events stay its own.
    cpSync(plainDir, eventsDir, { recursive: true })
    const plain = await startPlinth('Plinth', plainDir, {})
    servers.push(plain)
    const evented = await startPlinth('Plinth+events', eventsDir, {
      PLINTH_EVENTS_AMQP_URL: AMQP_URL,
      PLINTH_WEBHOOKS_ALLOW_PRIVATE: 'true',
    })
    servers.push(evented)
    const tokens = { plain: await signIn(plain), evented: await signIn(evented) }
    await registerWebhook(evented, tokens.evented, receiver.url)

    const runs = { evented: [], plain: [] }
    let created = 0
    const lags = []
    for (let round = 0; round < settings.rounds; round++) {
      const warmup = round === 0 ? settings.warmup : 0
      removeCreatedPosts(databaseFile(plainDir))
      runs.evented.push(await measure(evented, tokens.evented, seeded, eventsDir, warmup))
      // Every created post is one event; the broker must have all of them, however late.
      const drainStart = performance.now()
      created += removeCreatedPosts(databaseFile(eventsDir))
      const caughtUp = await until(() => reader.received() >= created, 120_000)
      lags.push(performance.now() - drainStart)
      if (!caughtUp) throw new Error(`RabbitMQ got ${reader.received()} of ${created} events within 120 s`)
      runs.plain.push(await measure(plain, tokens.plain, seeded, plainDir, warmup))
    }
    const scenario = {
      id: 'create-events',
      kind: 'create',
      collection: 'posts',
      token: 'superuser',
      title: 'create, events on',
    }
    const result = compare(scenario, runs.evented, runs.plain)
    const verdict = result.clean && result.ratio >= TARGET ? 'meets' : 'misses'
    console.log(
      `Creates with events on: ${Math.round(result.plinth.requestsPerSecond)} req/s against ${Math.round(result.floor.requestsPerSecond)} req/s without, ratio ${result.ratio} (${verdict} the target of ${TARGET})${result.clean ? '' : ', with failed requests'}`,
    )
    console.log(
      `  RabbitMQ received all ${created} events; the last arrived ${lags.map((ms) => Math.round(ms)).join(', ')} ms after each round's load ended.`,
    )
    console.log(`  The webhook receiver got ${receiver.received()} deliveries so far.`)
  } finally {
    await Promise.all(servers.map(stopServer))
    await reader.close()
    await receiver.close()
    rmSync(plainDir, { recursive: true, force: true })
    rmSync(eventsDir, { recursive: true, force: true })
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error)
  process.exitCode = 1
})
