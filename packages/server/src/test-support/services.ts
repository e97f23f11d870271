import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { connect as connectSocket, createServer, type Server, type Socket } from 'node:net'
import { freePort } from './server-process.js'

export type ServiceKind = 'amqp' | 'nats' | 'mqtt' | 'redis'

/** The services tests use, overridable by PLINTH_TEST_AMQP_URL, _NATS_URL, _MQTT_URL and _REDIS_URL. */
export const serviceUrls: Record<ServiceKind, string> = {
  amqp: process.env.PLINTH_TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
  nats: process.env.PLINTH_TEST_NATS_URL ?? 'nats://127.0.0.1:4222',
  mqtt: process.env.PLINTH_TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883',
  redis: process.env.PLINTH_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
}

const names: Record<ServiceKind, string> = {
  amqp: 'RabbitMQ',
  nats: 'NATS',
  mqtt: 'the MQTT broker',
  redis: 'Redis',
}

/**
 * Why tests of `kind` cannot run here, or '' when its service answers. Under CI=true
 * a missing broker throws instead: there, a skipped test would hide a gap.
 */
export async function serviceSkipReason(kind: ServiceKind): Promise<string> {
  const { hostname, port } = new URL(serviceUrls[kind])
  if (await answers(hostname, Number(port))) return ''
  const reason = `${names[kind]} does not answer at ${hostname}:${port} (set PLINTH_TEST_${kind.toUpperCase()}_URL)`
  if (process.env.CI === 'true') throw new Error(`${reason}; it is required under CI.`)
  return reason
}

function answers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connectSocket({ host, port, timeout: 2_000 })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
    socket.once('timeout', () => {
      socket.destroy()
      resolve(false)
    })
  })
}

/**
 * A TCP proxy in front of a service, so a test can take the service away from Plinth
 * (closing the port and cutting every connection) while the service itself runs on.
 */
export interface ServiceProxy {
  /** The service's URL with the proxy's address. */
  readonly url: string
  /** Connections open through the proxy now. */
  connections(): number
  cut(): Promise<void>
  restore(): Promise<void>
  close(): Promise<void>
}

export async function serviceProxy(kind: ServiceKind): Promise<ServiceProxy> {
  const target = new URL(serviceUrls[kind])
  const sockets = new Set<Socket>()
  const clients = new Set<Socket>()
  let server: Server | null = null
  let port = 0
  const listen = async () => {
    const listening = createServer((client) => {
      const upstream = connectSocket({ host: target.hostname, port: Number(target.port) })
      clients.add(client)
      client.on('close', () => clients.delete(client))
      for (const socket of [client, upstream]) {
        sockets.add(socket)
        socket.on('close', () => sockets.delete(socket))
        socket.on('error', () => {
          client.destroy()
          upstream.destroy()
        })
      }
      client.pipe(upstream).pipe(client)
    })
    await new Promise<void>((resolve, reject) => {
      listening.once('error', reject)
      listening.listen(port, '127.0.0.1', () => resolve())
    })
    port = (listening.address() as { port: number }).port
    server = listening
  }
  const cut = async () => {
    const closing = server
    server = null
    if (!closing) return
    const closed = new Promise((resolve) => closing.close(resolve))
    for (const socket of sockets) socket.destroy()
    await closed
  }
  await listen()
  const url = new URL(target)
  url.port = String(port)
  return {
    url: url.toString().replace(/\/$/, ''),
    connections: () => clients.size,
    cut,
    async restore() {
      if (!server) await listen()
    },
    close: cut,
  }
}

/** Where memcached is, or null when it is not installed. */
function memcachedProgram(): string | null {
  for (const candidate of ['/usr/bin/memcached', '/usr/local/bin/memcached', '/usr/sbin/memcached'])
    if (existsSync(candidate)) return candidate
  return null
}

/** Why memcached tests cannot run here, or ''. Under CI=true a missing memcached throws. */
export function memcachedSkipReason(): string {
  if (memcachedProgram()) return ''
  const reason = 'memcached is not installed (Debian package memcached; .ci/run installs it)'
  if (process.env.CI === 'true') throw new Error(`${reason}; it is required under CI.`)
  return reason
}

/** A memcached of the test's own on a free port; `stop` ends it. */
export async function startMemcached(): Promise<{ servers: string; stop: () => void }> {
  const port = await freePort()
  // memcached will not run as root unless told which user to be.
  const user = process.getuid?.() === 0 ? ['-u', 'root'] : []
  const child = spawn(
    memcachedProgram()!,
    ['-l', '127.0.0.1', '-p', String(port), '-U', '0', '-m', '16', ...user],
    {
      stdio: 'ignore',
    },
  )
  const deadline = Date.now() + 10_000
  while (!(await answers('127.0.0.1', port))) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error('memcached did not start')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return { servers: `127.0.0.1:${port}`, stop: () => child.kill('SIGKILL') }
}
