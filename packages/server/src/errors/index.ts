export {
  BadRequestError,
  ConflictError,
  type ErrorCode,
  errorCatalogue,
  type FieldErrors,
  FilterError,
  ForbiddenError,
  NotFoundError,
  PlinthError,
  PreconditionFailedError,
  problemType,
  UnauthorizedError,
  ValidationError,
} from './errors.js'
export { assertNoNulInJson, assertNoNulInUrl } from './nul-character.js'
export { isPrototypeKey, prototypeKeyIn } from './prototype-keys.js'
