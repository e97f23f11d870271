// The realtime floor: the least a hand-written server needs to answer the realtime
// benchmark. Each write is a row in SQLite (Plinth's pragmas), then every SSE client
// gets it. Like Plinth it encodes an event once for all clients and writes each client's
// socket one HTTP chunk per turn of the event loop, whatever number of events the turn
// holds; it checks no rule, keeps no outbox and renders nothing per reader.
//
//   node realtime-floor.js --db <data.db> --port <port>
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import { parseArgs } from 'node:util'
import Database from 'better-sqlite3'
import { v7 as uuidv7 } from 'uuid'
import { applySqlitePragmas } from '../dist/db/dialects/sqlite/sqlite-pragmas.js'

const { values: args } = parseArgs({
  options: { db: { type: 'string' }, port: { type: 'string', default: '0' } },
})

const database = new Database(args.db)
applySqlitePragmas(database, 'normal')
database.exec('create table if not exists ticks (id text primary key, sent real, created text, updated text)')
const insert = database.prepare('insert into ticks (id, sent, created, updated) values (?, ?, ?, ?)')

const clients = new Set()
let queued = []
let seq = 0
let isFlushing = false

/**
 * One HTTP chunk with every event queued so far, written straight to each client's
 * socket; every 200 clients it lets requests in, and what they queue goes in the next round.
 */
async function flush() {
  isFlushing = true
  while (queued.length > 0) {
    const body = Buffer.from(queued.join(''))
    queued = []
    const chunk = Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n')])
    let written = 0
    for (const client of [...clients]) {
      if (++written % 200 === 0) await new Promise((resolve) => setImmediate(resolve))
      client.write(chunk)
    }
  }
  isFlushing = false
}

function readBody(request) {
  return new Promise((resolve) => {
    let body = ''
    request.setEncoding('utf8')
    request.on('data', (part) => {
      body += part
    })
    request.on('end', () => resolve(body))
  })
}

function json(response, status, value) {
  const body = JSON.stringify(value)
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  })
  response.end(body)
}

const server = createServer(async (request, response) => {
  const { method, url } = request
  if (method === 'GET' && url === '/api/health') return json(response, 200, { status: 'ok' })
  if (method === 'GET' && url === '/api/realtime') {
    const clientId = randomBytes(16).toString('base64url')
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' })
    response.write(`id:${clientId}\nevent:PB_CONNECT\ndata:${JSON.stringify({ clientId })}\n\n`)
    const { socket } = response
    socket.setNoDelay(true)
    clients.add(socket)
    response.on('close', () => clients.delete(socket))
    return
  }
  const body = await readBody(request)
  if (method === 'POST' && url === '/api/realtime') {
    response.writeHead(204)
    return response.end()
  }
  if (method === 'POST' && url === '/api/collections/_superusers/auth-with-password')
    return json(response, 200, { token: 'floor' })
  if (method === 'POST' && url === '/api/collections/ticks/records') {
    const { sent } = JSON.parse(body)
    const now = new Date().toISOString()
    const record = {
      collectionId: 'ticks',
      collectionName: 'ticks',
      id: uuidv7(),
      sent,
      created: now,
      updated: now,
    }
    insert.run(record.id, sent, now, now)
    seq += 1
    if (!isFlushing && queued.length === 0) setImmediate(flush)
    queued.push(`id:${seq}\nevent:ticks/*\ndata:${JSON.stringify({ action: 'create', record })}\n\n`)
    return json(response, 201, record)
  }
  json(response, 404, { status: 404 })
})

server.listen(Number(args.port), '127.0.0.1')
process.on('SIGTERM', () => {
  for (const client of clients) client.destroy()
  server.close(() => process.exit(0))
})
