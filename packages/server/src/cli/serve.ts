import { watch } from 'node:fs'
import type { Server } from 'node:http'
import { Server as NetServer } from 'node:net'
import type { FastifyInstance } from 'fastify'
import type { Restart } from '../backups/index.js'
import type { PlinthConfig } from '../config/index.js'
import { isPrettyLog } from '../core/index.js'
import { createApp } from '../http/index.js'

/**
 * Listens until SIGINT or SIGTERM, then drains: readiness turns 503; after SIGTERM the
 * server serves on for the drain delay, then stops accepting connections and serves the
 * ones it has for a moment, each answer closing its own. Then it waits for in-flight
 * requests (up to the shutdown timeout) and closes the database. With `dev`,
 * a change to the project's config file starts a new app in its place; a config that
 * fails to load leaves the running one as it was.
 */
export async function serve(config: PlinthConfig, options: { dev?: boolean } = {}): Promise<FastifyInstance> {
  let stopping = false
  let reloading = Promise.resolve()
  /**
   * A restore over HTTP replaces the app: readiness turns 503, in-flight requests finish and
   * the database closes (so SQLite's file can be swapped and PostgreSQL's load has no writer
   * of ours beside it), the restore runs, and a new app starts on what it left, as PocketBase
   * restarts its process. Nothing holds the port meanwhile: clients retry, proxies go elsewhere.
   */
  const restart: Restart = (between) => {
    reloading = reloading
      .then(async () => {
        if (stopping) return
        app.plinth.lifecycle.isDraining = true
        app.log.info('restarting to restore a backup: finishing in-flight requests')
        await app.close()
        await between()
        try {
          app = await start(config, restart)
        } catch (error) {
          app.log.fatal({ err: error }, 'the server did not start again after the restore')
          process.exit(1)
        }
      })
      .catch((error) => app.log.error({ err: error }, 'the restart failed'))
  }
  let app = await start(config, restart)

  const stop = async (signal: string) => {
    if (stopping) return
    stopping = true
    // A restore under way finishes first: stopping between its renames would leave half of it.
    await reloading
    app.plinth.lifecycle.isDraining = true
    app.log.info({ signal }, 'draining: finishing in-flight requests before exit')
    // SIGINT comes from a person at a terminal, who wants the prompt back: no delay.
    if (signal === 'SIGTERM') await handOver(app, config.drainDelayMs)
    app.plinth.lifecycle.isClosing = true
    const timer = setTimeout(() => {
      app.log.error('in-flight requests did not finish in time; exiting')
      process.exit(1)
    }, config.shutdownTimeoutMs)
    timer.unref()
    try {
      await app.close()
      process.exit(0)
    } catch (error) {
      app.log.error({ err: error }, 'shutdown failed')
      process.exit(1)
    }
  }
  process.once('SIGINT', () => void stop('SIGINT'))
  process.once('SIGTERM', () => void stop('SIGTERM'))

  if (options.dev && config.projectConfig) {
    const file = config.projectConfig
    let timer: NodeJS.Timeout | undefined
    // Editors write a file in several steps: wait for them to settle before reloading.
    watch(file, () => {
      clearTimeout(timer)
      timer = setTimeout(() => {
        reloading = reloading.then(async () => {
          if (stopping) return
          app.log.info({ file }, 'the project config changed: reloading')
          try {
            const next = await createApp(config, { restart })
            await app.close()
            await next.listen({ host: config.host, port: config.port })
            app = next
            app.log.info({ file }, 'reloaded')
          } catch (error) {
            app.log.error(`the project config was not reloaded: ${(error as Error).message}`)
          }
        })
      }, 100)
    }).unref()
  }
  return app
}

async function start(config: PlinthConfig, restart: Restart): Promise<FastifyInstance> {
  const startedAt = performance.now()
  const app = await createApp(config, { restart })
  try {
    await app.listen({ host: config.host, port: config.port })
  } catch (error) {
    await app.close()
    throw (error as NodeJS.ErrnoException).code === 'EADDRINUSE' ? portInUse(config) : error
  }
  app.log.info(
    {
      database: app.plinth.dialect.name,
      dataDir: config.dataDir,
      projectConfig: config.projectConfig,
      startupMs: Math.round(performance.now() - startedAt),
    },
    `Plinth is listening on ${config.publicUrl} (REST API at /api, docs at /api/docs)`,
  )
  if (app.plinth.setupLink) {
    // At a terminal the link stands on its own line, easy to spot and to click; machines get a JSON line.
    const showsWarnings = !['fatal', 'error', 'silent'].includes(config.logLevel)
    if (isPrettyLog(config.logFormat) && showsWarnings)
      process.stdout.write(
        `\nCreate the first superuser: ${app.plinth.setupLink}\n(a one-time link, valid for 1 hour)\n\n`,
      )
    else
      app.log.warn(
        `No superuser yet. Create the first one with this one-time link (valid for 1 hour): ${app.plinth.setupLink}`,
      )
  }
  return app
}

/**
 * How long a node that stopped accepting connections serves the ones it has: below the 2 s
 * for which nginx leaves out a node that refused a connection (fail_timeout in
 * deploy/nginx/plinth.conf), so nginx sends nothing on an idle one as the node closes it.
 */
const CLOSE_WAIT_MS = 1000

/**
 * A proxy keeps idle connections to the node and sends its next request on one of them; a
 * connection closed as the proxy writes to it fails that request, and no proxy sends a POST
 * twice. So the node first serves on as before for `delayMs` while readiness fails: proxies
 * that check it stop sending. Then it stops accepting connections (a proxy that does not
 * check tries another node when refused) and serves the connections it has, each answer
 * closing its own, so they end cleanly before the app closes what is left. Closing the
 * listening socket resets the connections the kernel queued for it: it closes once proxies
 * have stopped, or (nginx) while they reuse connections rather than open new ones.
 */
async function handOver(app: FastifyInstance, delayMs: number): Promise<void> {
  await untilConnectionsEnd(app.server, delayMs)
  app.plinth.lifecycle.isClosing = true
  // http.Server#close would also close the idle connections at once; net.Server's closes
  // the listening socket alone.
  NetServer.prototype.close.call(app.server)
  await untilConnectionsEnd(app.server, CLOSE_WAIT_MS)
}

async function untilConnectionsEnd(server: Server, ms: number): Promise<void> {
  const deadline = Date.now() + ms
  const open = () =>
    new Promise<number>((resolve) => server.getConnections((error, count) => resolve(error ? 0 : count)))
  while (Date.now() < deadline && (await open()) > 0) await new Promise((resolve) => setTimeout(resolve, 50))
}

function portInUse({ host, port }: PlinthConfig): Error {
  const other = port < 65535 ? port + 1 : 8091
  return new Error(
    `port ${port} on ${host} is already in use (another Plinth?). Choose another one: ` +
      `PLINTH_PORT=${other} npm start, or plinth serve --port ${other}.`,
  )
}
