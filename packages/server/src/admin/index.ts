/** The admin web app (packages/admin), served at /_/. */
export { ADMIN_CSP, type AdminRoutesOptions, adminRoutes } from './routes.js'
