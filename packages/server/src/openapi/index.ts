export { openapiRoutes } from './routes.js'
