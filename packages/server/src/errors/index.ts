export {
  BadRequestError,
  ConflictError,
  type ErrorCode,
  errorCatalogue,
  type FieldErrors,
  FilterError,
  ForbiddenError,
  HookError,
  NotFoundError,
  PlinthError,
  PreconditionFailedError,
  problemType,
  ReadOnlyCollectionError,
  UnauthorizedError,
  ValidationError,
} from './errors.js'
export { refuseBody } from './no-body.js'
export { assertNoNulInJson, assertNoNulInUrl } from './nul-character.js'
export { type ProblemDetails, problemDetails } from './problem-details.js'
export { isPrototypeKey, prototypeKeyIn } from './prototype-keys.js'
