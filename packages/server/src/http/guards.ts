import type { FastifyRequest } from 'fastify'
import { ForbiddenError, UnauthorizedError } from './errors.js'

/** 401 for anonymous callers, 403 for signed-in ones that are not superusers. */
export function requireSuperuser(request: FastifyRequest, what = 'do this'): void {
  if (request.caller.isSuperuser) return
  if (!request.caller.auth) throw new UnauthorizedError(`Sign in as a superuser to ${what}.`)
  throw new ForbiddenError(`Only superusers may ${what}.`)
}
