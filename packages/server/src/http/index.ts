export { createApp, openPlinthDatabase, type Plinth } from './app.js'
export {
  BadRequestError,
  ConflictError,
  errorCatalogue,
  FilterError,
  ForbiddenError,
  NotFoundError,
  PlinthError,
  problemType,
  UnauthorizedError,
  ValidationError,
} from './errors.js'
