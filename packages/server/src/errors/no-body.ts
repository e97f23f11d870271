import { BadRequestError } from './errors.js'

/**
 * Refuses a body on an action that takes none (`POST /api/backups`, `POST /api/crons/{id}`):
 * no body, `null` or `{}` pass; a key is a 400 naming it, so a client learns its option is
 * not one rather than seeing it ignored.
 *
 * @example refuseBody(request.body, 'A backup takes no options: archives are named by their time.')
 */
export function refuseBody(body: unknown, why: string): void {
  if (body === undefined || body === null) return
  if (typeof body !== 'object' || Array.isArray(body))
    throw new BadRequestError('The body must be a JSON object, or none.')
  const keys = Object.keys(body)
  if (keys.length > 0)
    throw new BadRequestError(
      why,
      'validation_failed',
      Object.fromEntries(keys.map((key) => [key, { code: 'unknown_field', message: 'is not an option' }])),
    )
}
