// The floor of the thumbnail scenario: the least a server does to answer a stored file,
// a stat for its length and a stream of its bytes with fs.createReadStream, on Fastify as
// Plinth is. Plinth's ratio against it prices the record lookup, the access check, the
// thumbnail's stat in storage and the headers a served file needs.
//
//   node files-floor.js --file <path> --type <media type> --port <port>
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import Fastify from 'fastify'

const { values: args } = parseArgs({
  options: {
    file: { type: 'string' },
    type: { type: 'string', default: 'application/octet-stream' },
    port: { type: 'string', default: '0' },
  },
})

const app = Fastify({ logger: false })

app.get('/api/health', async () => ({ status: 'ok' }))

// A stat per request, as static file servers do (send, @fastify/static): the file may
// have changed since the last one.
app.get('/file', async function serveFile(_request, reply) {
  const { size } = await stat(args.file)
  reply.type(args.type).header('content-length', size)
  return reply.send(createReadStream(args.file))
})

await app.listen({ host: '127.0.0.1', port: Number(args.port) })
