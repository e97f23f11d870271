import { hostname } from 'node:os'
import type { FastifyRequest } from 'fastify'
import type { PlinthConfig } from '../config/index.js'
import { isSecretParam } from '../security/index.js'

/** The URL with the values of secret-looking query parameters replaced. */
export function redactUrl(url: string): string {
  const question = url.indexOf('?')
  if (question < 0) return url
  const params = new URLSearchParams(url.slice(question + 1))
  for (const name of [...params.keys()]) if (isSecretParam(name)) params.set(name, '[redacted]')
  return `${url.slice(0, question)}?${params.toString()}`
}

/** Readable lines for a person at a terminal; JSON lines for everything else, which machines read. */
export function isPrettyLog(format: PlinthConfig['logFormat']): boolean {
  return format === 'pretty' || (format === 'auto' && process.stdout.isTTY === true)
}

/** Where pretty logs go; undefined keeps pino's JSON on stdout. */
async function prettyStream(format: PlinthConfig['logFormat']) {
  if (!isPrettyLog(format)) return undefined
  // Imported here, so JSON logging never loads the formatter.
  const { default: pinoPretty } = await import('pino-pretty')
  // Synchronous, like the JSON logger: a line is out before the process can exit. A terminal
  // shows one process, so the fields that tell processes apart would only repeat on every line.
  return pinoPretty({ sync: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname,nodeId' })
}

/**
 * Pino options for Fastify: every line names its node, requests are logged without headers
 * (so no Authorization or cookies), URLs with secrets redacted, and any stray credential
 * paths censored.
 */
export async function loggerOptions({
  logLevel,
  logFormat,
  nodeId,
}: Pick<PlinthConfig, 'logLevel' | 'logFormat' | 'nodeId'>) {
  const stream = await prettyStream(logFormat)
  return {
    level: logLevel,
    ...(stream ? { stream } : {}),
    // Pino's own base, plus the node: the host name alone does not tell apart two nodes on one machine.
    base: { pid: process.pid, hostname: hostname(), nodeId },
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'res.headers["set-cookie"]',
        '*.password',
        '*.token',
        '*.refreshToken',
      ],
      censor: '[redacted]',
    },
    serializers: {
      req(request: FastifyRequest) {
        return { method: request.method, url: redactUrl(request.url), remoteAddress: request.ip }
      },
    },
  }
}
