// `npm run bench:admin`: the admin app's bundle size and the records view of a large collection
// in headless Chromium, against the targets of the admin app:
//   (a) the gzip size of the first load (index.html and what it loads before any page chunk)
//       and of the records view (the first load and the records page's chunks): first load
//       under 200 KB;
//   (b) the time from navigating to the records view of BENCH_ADMIN_ROWS records (100,000 by
//       default) until its first rows are drawn and the table answers a key press: under 1 s;
//   (c) frame times while the table scrolls: no dropped frame (an interval of a frame and a
//       half or more), and how many frames took longer than 16.7 ms.
// Needs a build (`npm run build`) and Chromium at /usr/bin/chromium (CHROMIUM to change it).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { chromium } from 'playwright-core'
import { v7 as uuidv7 } from 'uuid'
import { describeMachine, loadAverage } from '../../server/bench/machine.js'
import { freePort, plinthServeArgs, startServer, stopServer } from '../../server/bench/processes.js'
import { upsertSuperuser } from '../../server/dist/auth/index.js'
import { loadConfig } from '../../server/dist/config/index.js'
import { createCore } from '../../server/dist/core/index.js'

const DIST = fileURLToPath(new URL('../dist/', import.meta.url))
const RESULTS = fileURLToPath(new URL('./results/', import.meta.url))
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium'
const ROWS = Number(process.env.BENCH_ADMIN_ROWS ?? 100_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const SCROLL_SECONDS = Number(process.env.BENCH_ADMIN_SCROLL_SECONDS ?? 4)
/** Pixels per frame while scrolling: about 100 rows a second at 60 frames a second, a fast flick. */
const SCROLL_STEP = 60
const ROWS_PER_STATEMENT = 1000
const SUPERUSER = { email: 'bench@example.com', password: 'bench-password-1234' }
const TARGETS = { firstLoadKb: 200, interactiveMs: 1000, droppedFrames: 0 }
const FRAME_MS = 1000 / 60

const kb = (bytes) => bytes / 1024
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)]
const verdict = (ok) => (ok ? 'PASS' : 'FAIL')

/** The gzip size of a built file: its precompressed `.gz` when the build wrote one. */
function gzipSize(file) {
  try {
    return statSync(`${file}.gz`).size
  } catch {
    return gzipSync(readFileSync(file), { level: 9 }).length
  }
}

/** index.html and the scripts, styles and preloads it names: what every first visit loads. */
function firstLoadFiles() {
  const html = readFileSync(join(DIST, 'index.html'), 'utf8')
  const assets = [...html.matchAll(/(?:src|href)="\/_\/(assets\/[^"]+)"/g)].map((match) => match[1])
  return ['index.html', ...new Set(assets)]
}

async function seed(dataDir) {
  const core = await createCore(
    loadConfig({}, { dataDir, logLevel: 'warn', logFormat: 'json', sqliteSync: 'normal' }),
  )
  try {
    await core.collections.create({
      name: 'items',
      fields: [
        { name: 'title', type: 'text', max: 200 },
        { name: 'views', type: 'number', onlyInt: true },
        { name: 'published', type: 'bool' },
      ],
    })
    await upsertSuperuser(core.records, SUPERUSER.email, SUPERUSER.password)
    const start = Date.parse('2025-01-01T00:00:00.000Z')
    for (let done = 0; done < ROWS; done += ROWS_PER_STATEMENT) {
      const rows = Array.from({ length: Math.min(ROWS_PER_STATEMENT, ROWS - done) }, (_, i) => {
        const at = new Date(start + (done + i) * 60_000).toISOString()
        return {
          id: uuidv7(),
          _version: 'v1',
          created: at,
          updated: at,
          title: `Item ${done + i}`,
          views: (done + i) % 997,
          published: (done + i) % 3 === 0 ? 1 : 0,
        }
      })
      await core.dialect.db.insertInto('items').values(rows).execute()
    }
  } finally {
    await core.close()
  }
}

async function signIn(page, url) {
  await page.goto(`${url}/_/`)
  await page.getByRole('textbox', { name: 'Email' }).fill(SUPERUSER.email)
  await page.getByLabel('Password', { exact: true }).fill(SUPERUSER.password)
  await page.getByRole('button', { name: 'Sign in', exact: true }).click()
  await page.getByRole('heading', { level: 1, name: 'Collections', exact: true }).waitFor()
}

/** From navigation to the first rows, and to the grid moving its focus on ArrowDown. */
async function openRecords(page, url) {
  const started = performance.now()
  await page.goto(`${url}/_/collections/items/records`)
  const grid = page.getByRole('grid', { name: 'Records of items' })
  const firstCell = grid.locator('[data-cell="0:1"]')
  await firstCell.waitFor()
  const rowsMs = performance.now() - started
  await firstCell.focus()
  await page.keyboard.press('ArrowDown')
  await page.waitForFunction(() => document.activeElement?.getAttribute('data-cell') === '1:1')
  return { rowsMs, interactiveMs: performance.now() - started }
}

/** Scrolls the table a step a frame and records each frame's interval (requestAnimationFrame). */
function scrollFrames(page) {
  return page.evaluate(
    ({ seconds, step }) =>
      new Promise((resolve) => {
        const scroller = document.querySelector('.records-scroll')
        const intervals = []
        let last = performance.now()
        const end = last + seconds * 1000
        const frame = (now) => {
          intervals.push(now - last)
          last = now
          scroller.scrollTop += step
          if (now < end) requestAnimationFrame(frame)
          else resolve({ intervals, scrolledRows: Math.round(scroller.scrollTop / 36) })
        }
        requestAnimationFrame((now) => {
          last = now
          requestAnimationFrame(frame)
        })
      }),
    { seconds: SCROLL_SECONDS, step: SCROLL_STEP },
  )
}

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'plinth-bench-admin-'))
  let server
  let browser
  try {
    const firstFiles = firstLoadFiles()
    const firstLoad = firstFiles.reduce((sum, file) => sum + gzipSize(join(DIST, file)), 0)

    console.log(`Seeding ${ROWS.toLocaleString('en')} records…`)
    await seed(dataDir)
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('PLINTH_')))
    const port = await freePort()
    server = await startServer({
      name: 'Plinth',
      args: plinthServeArgs(dataDir, port),
      env: { ...env, PLINTH_LOG_LEVEL: 'warn', PLINTH_RATE_LIMITS: 'off' },
      port,
    })
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage()
    await signIn(page, server.url)

    // The records view's assets: every file under /_/assets/ a fresh visit asks for.
    const assets = new Set()
    page.on('request', (request) => {
      const path = new URL(request.url()).pathname
      if (path.startsWith('/_/assets/')) assets.add(path.slice('/_/'.length))
    })
    const rounds = []
    for (let round = 0; round < ROUNDS; round++) rounds.push(await openRecords(page, server.url))
    const recordsView = [...new Set([...firstFiles, ...assets])].reduce(
      (sum, file) => sum + gzipSize(join(DIST, file)),
      0,
    )

    const { intervals, scrolledRows } = await scrollFrames(page)
    const frames = intervals.slice(1)
    const long = frames.filter((ms) => ms > FRAME_MS + 1)
    const dropped = frames.filter((ms) => ms >= FRAME_MS * 1.5)

    const result = {
      date: new Date().toISOString(),
      machine: describeMachine(),
      loadAverage: loadAverage(),
      rows: ROWS,
      bundle: {
        firstLoadGzipBytes: firstLoad,
        recordsViewGzipBytes: recordsView,
        firstLoadFiles: firstFiles,
      },
      open: {
        rounds,
        firstRowsMs: median(rounds.map((r) => r.rowsMs)),
        interactiveMs: median(rounds.map((r) => r.interactiveMs)),
      },
      scroll: {
        seconds: SCROLL_SECONDS,
        rowsScrolled: scrolledRows,
        frames: frames.length,
        framesOver16_7ms: long.length,
        droppedFrames: dropped.length,
        worstFrameMs: Math.max(...frames),
        medianFrameMs: median(frames),
      },
    }
    mkdirSync(RESULTS, { recursive: true })
    const file = join(RESULTS, `admin-${result.date.replaceAll(':', '-')}.json`)
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`)

    const { bundle, open, scroll } = result
    const { cpu, cores } = result.machine
    console.log(`Admin app, on ${cpu} (${cores} cores), load average ${result.loadAverage?.join(' ')}`)
    console.log(
      `  first load   ${kb(bundle.firstLoadGzipBytes).toFixed(1)} KB gzip (target < ${TARGETS.firstLoadKb} KB) ${verdict(kb(bundle.firstLoadGzipBytes) < TARGETS.firstLoadKb)}`,
    )
    console.log(
      `  records view ${kb(bundle.recordsViewGzipBytes).toFixed(1)} KB gzip (first load and the page's chunks)`,
    )
    console.log(
      `  ${ROWS.toLocaleString('en')} records: first rows in ${Math.round(open.firstRowsMs)} ms, interactive in ${Math.round(open.interactiveMs)} ms, median of ${ROUNDS} (target < ${TARGETS.interactiveMs} ms) ${verdict(open.interactiveMs < TARGETS.interactiveMs)}`,
    )
    console.log(
      `  scrolling ${scroll.rowsScrolled.toLocaleString('en')} rows in ${SCROLL_SECONDS} s: ${scroll.frames} frames, ${scroll.framesOver16_7ms} over 16.7 ms, ${scroll.droppedFrames} dropped, worst ${scroll.worstFrameMs.toFixed(1)} ms (target: no dropped frame) ${verdict(scroll.droppedFrames <= TARGETS.droppedFrames)}`,
    )
    console.log(`  results in ${file}`)
  } finally {
    await browser?.close()
    if (server) await stopServer(server)
    rmSync(dataDir, { recursive: true, force: true })
  }
}

await main()
