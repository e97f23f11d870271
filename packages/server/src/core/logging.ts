import type { FastifyRequest } from 'fastify'

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

/**
 * Pino options for Fastify: requests logged without headers (so no Authorization
 * or cookies), URLs with secrets redacted, and any stray credential paths censored.
 */
export function loggerOptions(level: string) {
  return {
    level,
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
