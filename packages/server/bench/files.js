// `npm run bench:files`: file fields, with the server in its own process as in run.js.
// (a) Creates carrying a 1 MiB file as multipart/form-data: requests/s, MB/s, latency and
//     the server's RSS; reported, no floor (a floor would need its own multipart parser,
//     storage and database, and then be most of Plinth).
// (b) A 100x100 thumbnail served from storage after it was made, against files-floor.js
//     streaming a file of the same bytes with fs.createReadStream, in alternating rounds
//     with the same load. Target: a ratio of at least 0.7.
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import sharp from 'sharp'
import { upsertSuperuser } from '../dist/auth/index.js'
import { loadConfig } from '../dist/config/index.js'
import { createCore } from '../dist/core/index.js'
import { describeMachine, loadAverage } from './machine.js'
import {
  call,
  freePort,
  memoryOf,
  NODE_FLAGS,
  plinthServeArgs,
  runLoad,
  startServer,
  stopServer,
} from './processes.js'
import { compare, NOISY_CORES } from './report.js'
import { number, plinthEnv, until } from './settings.js'

const FILES_FLOOR = fileURLToPath(new URL('./files-floor.js', import.meta.url))
const RESULTS = fileURLToPath(new URL('./results/', import.meta.url))
const SUPERUSER = { email: 'bench@example.com', password: 'bench-password-1234' }
const UPLOAD_BYTES = 1024 * 1024
const THUMB = '100x100'
const TARGET = 0.7

const settings = {
  duration: number('BENCH_DURATION', 10),
  warmup: number('BENCH_WARMUP', 2),
  connections: number('BENCH_CONNECTIONS', 10),
  rounds: number('BENCH_ROUNDS', 3),
  sync: (process.env.BENCH_SQLITE_SYNC ?? 'full').toLowerCase(),
}

const uploadsDefinition = {
  name: 'uploads',
  fields: [
    { name: 'title', type: 'text' },
    { name: 'document', type: 'file', maxSize: 2 * UPLOAD_BYTES },
  ],
}

const imagesDefinition = {
  name: 'images',
  fields: [{ name: 'photo', type: 'file', mimeTypes: ['image/*'], maxSize: 10 * UPLOAD_BYTES }],
  viewRule: '',
}

async function prepare(dataDir) {
  const core = await createCore(loadConfig({}, { dataDir, logLevel: 'silent', sqliteSync: settings.sync }))
  try {
    await core.collections.create(uploadsDefinition)
    await core.collections.create(imagesDefinition)
    await upsertSuperuser(core.records, SUPERUSER.email, SUPERUSER.password)
  } finally {
    await core.close()
  }
}

async function startPlinth(dataDir) {
  const port = await freePort()
  const server = await startServer({
    name: 'Plinth',
    args: plinthServeArgs(dataDir, port),
    env: plinthEnv(settings.sync),
    port,
  })
  const signIn = await call(`${server.url}/api/collections/_superusers/auth-with-password`, {
    method: 'POST',
    body: { identity: SUPERUSER.email, password: SUPERUSER.password },
  })
  if (signIn.status !== 200) throw new Error(`sign-in failed: ${signIn.status} ${signIn.text}`)
  return { ...server, token: JSON.parse(signIn.text).token }
}

/** A form as a browser's FormData encodes it, with its content type (which names the boundary). */
async function encodeForm(entries) {
  const form = new FormData()
  for (const [key, value] of entries) form.append(key, ...value)
  const encoded = new Response(form)
  return {
    body: Buffer.from(await encoded.arrayBuffer()),
    contentType: encoded.headers.get('content-type'),
  }
}

async function send(server, path, init = {}) {
  const response = await fetch(`${server.url}${path}`, {
    ...init,
    headers: { ...(server.token ? { authorization: `Bearer ${server.token}` } : {}), ...init.headers },
  })
  return {
    status: response.status,
    bytes: Buffer.from(await response.arrayBuffer()),
    headers: response.headers,
  }
}

async function measure(server, plan, dataDir) {
  const file = join(dataDir, `plan-${plan.id}-${server.name}.json`)
  writeFileSync(
    file,
    JSON.stringify({
      url: server.url,
      serverPid: server.child.pid,
      kind: 'fixed',
      connections: settings.connections,
      duration: settings.duration,
      ...plan,
    }),
  )
  process.stdout.write(`  ${plan.title}: ${server.name}… `)
  const result = await runLoad(file)
  const other = result.cpu.otherCores + result.cpu.stealCores
  const note = other >= NOISY_CORES ? ` (other processes used ${other.toFixed(2)} cores meanwhile)` : ''
  process.stdout.write(`${Math.round(result.requestsPerSecond)} req/s${note}\n`)
  return result
}

/**
 * Drops and recreates the uploads collection through the API, and waits until the
 * cleanup job removed the files: each round starts on an empty table and a disk that
 * does not fill up, and no cleanup runs during the next round.
 */
async function emptyUploads(server, dataDir) {
  const found = await send(server, '/api/collections/uploads')
  const { id } = JSON.parse(found.bytes)
  const dropped = await send(server, '/api/collections/uploads', { method: 'DELETE' })
  if (dropped.status !== 204) throw new Error(`dropping uploads failed: ${dropped.status}`)
  const created = await send(server, '/api/collections', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(uploadsDefinition),
  })
  if (created.status !== 201) throw new Error(`creating uploads failed: ${created.status}`)
  if (!(await until(() => !existsSync(join(dataDir, 'storage', id)), 120_000)))
    throw new Error('the files of the dropped uploads were not removed within 120 s')
}

async function uploads(dataDir) {
  const form = await encodeForm([
    ['title', ['bench upload']],
    [
      'document',
      [
        new Blob([randomBytes(UPLOAD_BYTES)], {
          type: 'application/octet-stream',
        }),
        'upload.bin',
      ],
    ],
  ])
  const bodyFile = join(dataDir, 'upload-form.bin')
  writeFileSync(bodyFile, form.body)
  const server = await startPlinth(dataDir)
  try {
    const check = await send(server, '/api/collections/uploads/records', {
      method: 'POST',
      headers: { 'content-type': form.contentType },
      body: form.body,
    })
    const record = JSON.parse(check.bytes)
    if (check.status !== 201) throw new Error(`an upload failed: ${check.status} ${check.bytes}`)
    const stored = await send(server, `/api/files/uploads/${record.id}/${record.document}`)
    if (stored.bytes.length !== UPLOAD_BYTES) throw new Error('the uploaded file was not stored whole')
    const idle = memoryOf(server.child.pid)
    const plan = {
      id: 'upload',
      title: 'create with a 1 MiB file',
      method: 'POST',
      path: '/api/collections/uploads/records',
      bodyFile,
      headers: { authorization: `Bearer ${server.token}`, 'content-type': form.contentType },
    }
    const rounds = []
    for (let round = 0; round < settings.rounds; round++) {
      await emptyUploads(server, dataDir)
      rounds.push(await measure(server, { ...plan, warmup: round === 0 ? settings.warmup : 0 }, dataDir))
    }
    const memory = memoryOf(server.child.pid)
    await emptyUploads(server, dataDir)
    const scenario = { id: 'upload', kind: 'upload', title: plan.title }
    return { ...compare(scenario, rounds, null), memory: { idle, ...memory } }
  } finally {
    await stopServer(server)
  }
}

async function startFloor(file, type) {
  const port = await freePort()
  return startServer({
    name: 'floor',
    args: [...NODE_FLAGS, FILES_FLOOR, '--file', file, '--type', type, '--port', String(port)],
    env: process.env,
    port,
  })
}

async function thumbnails(dataDir) {
  const photo = await sharp({
    create: { width: 1600, height: 1200, channels: 3, noise: { type: 'gaussian', mean: 128, sigma: 40 } },
  })
    .jpeg({ quality: 85 })
    .toBuffer()
  const form = await encodeForm([['photo', [new Blob([photo], { type: 'image/jpeg' }), 'photo.jpg']]])
  const servers = []
  try {
    const plinth = await startPlinth(dataDir)
    servers.push(plinth)
    const created = await send(plinth, '/api/collections/images/records', {
      method: 'POST',
      headers: { 'content-type': form.contentType },
      body: form.body,
    })
    if (created.status !== 201)
      throw new Error(`uploading the image failed: ${created.status} ${created.bytes}`)
    const image = JSON.parse(created.bytes)
    const path = `/api/files/images/${image.id}/${image.photo}?thumb=${THUMB}`
    const made = await send(plinth, path)
    if (made.status !== 200) throw new Error(`making the thumbnail failed: ${made.status} ${made.bytes}`)
    // The floor serves the very bytes of the thumbnail, from a file of its own.
    const floorFile = join(dataDir, 'floor-thumbnail.jpg')
    writeFileSync(floorFile, made.bytes)
    const floor = await startFloor(floorFile, made.headers.get('content-type'))
    servers.push(floor)
    const fromFloor = await send(floor, '/file')
    if (!fromFloor.bytes.equals(made.bytes))
      throw new Error('the floor does not answer the thumbnail’s bytes')

    const title = `thumbnail ${THUMB} from storage (${made.bytes.length} bytes)`
    const runs = { plinth: [], floor: [] }
    for (let round = 0; round < settings.rounds; round++) {
      const warmup = round === 0 ? settings.warmup : 0
      // Anonymous, as an <img> on a public page asks: the field is public.
      runs.plinth.push(await measure(plinth, { id: 'thumb', title, path, headers: {}, warmup }, dataDir))
      runs.floor.push(
        await measure(floor, { id: 'thumb', title, path: '/file', headers: {}, warmup }, dataDir),
      )
    }
    const scenario = { id: 'thumbnail', kind: 'thumbnail', title }
    return { ...compare(scenario, runs.plinth, runs.floor), bytes: made.bytes.length }
  } finally {
    await Promise.all(servers.map(stopServer))
  }
}

const ms = (value) => (value === null ? '-' : value.toFixed(value < 10 ? 2 : 1))
const mb = (value) => value.toFixed(0)

async function main() {
  const machine = describeMachine()
  const loadBefore = loadAverage()
  const dataDir = mkdtempSync(join(tmpdir(), 'plinth-bench-files-'))
  try {
    console.log(
      `Files: ${settings.connections} connections; ${settings.rounds} rounds of ${settings.duration} s after ${settings.warmup} s of warm-up; synchronous=${settings.sync.toUpperCase()}`,
    )
    await prepare(dataDir)
    const thumbnail = await thumbnails(dataDir)
    const upload = await uploads(dataDir)

    const { plinth, floor, ratio, clean } = thumbnail
    const meets = clean && ratio >= TARGET
    console.log('')
    console.log(
      `Thumbnail ${THUMB} from storage: Plinth ${Math.round(plinth.requestsPerSecond)} req/s ` +
        `(p50 ${ms(plinth.latencyMs.p50)} ms, p99 ${ms(plinth.latencyMs.p99)} ms), static floor ` +
        `${Math.round(floor.requestsPerSecond)} req/s (p50 ${ms(floor.latencyMs.p50)} ms, p99 ${ms(floor.latencyMs.p99)} ms); ` +
        `ratio ${(Math.floor(ratio * 100) / 100).toFixed(2)}, ${meets ? 'meets' : 'misses'} the target of >= ${TARGET}` +
        `${clean ? '' : ' (with failed requests)'}${thumbnail.noisy ? ' *' : ''}`,
    )
    const perSecond = upload.plinth.requestsPerSecond
    console.log(
      `Create with a 1 MiB file: ${Math.round(perSecond)} req/s, ${mb((perSecond * UPLOAD_BYTES) / 2 ** 20)} MB/s ` +
        `(p50 ${ms(upload.plinth.latencyMs.p50)} ms, p99 ${ms(upload.plinth.latencyMs.p99)} ms)` +
        `${upload.clean ? '' : ' (with failed requests)'}${upload.noisy ? ' *' : ''}`,
    )
    const { memory } = upload
    console.log(
      `Plinth RSS: ${mb(memory.idle.rssMb)} MB before the uploads, ${mb(memory.rssMb)} MB after, peak ${mb(memory.peakRssMb)} MB`,
    )
    if (thumbnail.noisy || upload.noisy)
      console.log(
        `* other processes used >= ${NOISY_CORES} of a core during a median round: run again on a quiet machine`,
      )
    const results = {
      date: new Date().toISOString(),
      machine,
      loadAverage: { before: loadBefore, after: loadAverage() },
      settings,
      target: TARGET,
      thumbnail,
      upload,
    }
    mkdirSync(RESULTS, { recursive: true })
    writeFileSync(join(RESULTS, 'files.json'), `${JSON.stringify(results, null, 2)}\n`)
    console.log(`Saved ${join(RESULTS, 'files.json')}`)
  } finally {
    rmSync(dataDir, { recursive: true, force: true })
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error)
  process.exitCode = 1
})
