import type { FastifyRequest } from 'fastify'
import type { PlinthConfig } from '../config/index.js'

/** Query parameters whose values must never reach a log. */
const secretParams =
  /^(token|password|passwordconfirm|code|otp|secret|refreshtoken|key|apikey|api_key|access_token)$/i

/** The URL with the values of secret-looking query parameters replaced. */
export function redactUrl(url: string): string {
  const question = url.indexOf('?')
  if (question < 0) return url
  const params = new URLSearchParams(url.slice(question + 1))
  for (const name of [...params.keys()]) if (secretParams.test(name)) params.set(name, '[redacted]')
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
  // Synchronous, like the JSON logger: a line is out before the process can exit.
  return pinoPretty({ sync: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' })
}

/**
 * Pino options for Fastify: requests logged without headers (so no Authorization
 * or cookies), URLs with secrets redacted, and any stray credential paths censored.
 */
export async function loggerOptions(level: string, format: PlinthConfig['logFormat'] = 'json') {
  const stream = await prettyStream(format)
  return {
    level,
    ...(stream ? { stream } : {}),
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
