import type { QueryClient } from '@tanstack/react-query'
import {
  createRootRouteWithContext,
  createRoute,
  createRouter,
  lazyRouteComponent,
  Outlet,
  redirect,
} from '@tanstack/react-router'
import { JOB_STATES } from './api/operation-filters'
import { sessionQuery } from './api/queries'
import type { Job } from './api/types'
import { NotFound } from './app/not-found'
import { Shell } from './app/shell'

export interface RouterContext {
  queryClient: QueryClient
}

/** `?page=` of a paged list: a whole number above 1, else left out (the first page). */
export interface PageSearch {
  page?: number
}

// The router lays a route's validated search over the raw one, so a value found invalid is
// set to undefined explicitly: a key merely left out would keep the raw value.
export function pageSearch(search: Record<string, unknown>): PageSearch {
  const page = Number(search.page)
  return { page: Number.isInteger(page) && page > 1 ? page : undefined }
}

/** A text of a filter box: trimmed, and left out when empty or not text at all. */
function textSearch(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined
}

/** `/jobs`: `?state=` one of the job states; any other value is dropped. */
export interface JobsSearch extends PageSearch {
  state?: Job['state']
}

export function jobsSearch(search: Record<string, unknown>): JobsSearch {
  return { ...pageSearch(search), state: JOB_STATES.find((one) => one === search.state) }
}

/** `/logs`: `?filter=` in the records' language; the server judges it, and says what is wrong. */
export interface LogsSearch extends PageSearch {
  filter?: string
}

export function logsSearch(search: Record<string, unknown>): LogsSearch {
  return { ...pageSearch(search), filter: textSearch(search.filter) }
}

/** `/audit`: `?event=` one of the audit events, `?recordId=` any id. */
export interface AuditSearch extends PageSearch {
  event?: string
  recordId?: string
}

/** The shape of an audit event's kind (`sign_in`, `api_key_created`). */
const AUDIT_EVENT = /^[a-z][a-z0-9_]{0,63}$/

export function auditSearch(search: Record<string, unknown>): AuditSearch {
  return {
    ...pageSearch(search),
    // The kinds come with the log itself; the page drops a kind the server does not list.
    event: typeof search.event === 'string' && AUDIT_EVENT.test(search.event) ? search.event : undefined,
    recordId: textSearch(search.recordId),
  }
}

const rootRoute = createRootRouteWithContext<RouterContext>()({
  component: Outlet,
  notFoundComponent: NotFound,
})

// Pages outside the signed-in shell.
const setupRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: 'setup',
  component: lazyRouteComponent(() => import('./pages/setup'), 'SetupPage'),
})
const signInRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: 'sign-in',
  validateSearch: (search: Record<string, unknown>): { redirect?: string } =>
    typeof search.redirect === 'string' && search.redirect.startsWith('/')
      ? { redirect: search.redirect }
      : {},
  component: lazyRouteComponent(() => import('./pages/sign-in'), 'SignInPage'),
})

/** Every page of the app proper: they need a signed-in superuser. */
const appRoute = createRoute({
  getParentRoute: () => rootRoute,
  id: '_app',
  beforeLoad: async ({ context, location }) => {
    const superuser = await context.queryClient.ensureQueryData(sessionQuery())
    if (!superuser) throw redirect({ to: '/sign-in', search: { redirect: location.href } })
    return { superuser }
  },
  component: Shell,
})

const indexRoute = createRoute({
  getParentRoute: () => appRoute,
  path: '/',
  beforeLoad: () => {
    throw redirect({ to: '/collections' })
  },
})

// Every page of the shell is code-split, so the first load carries none of them.
const collectionsRoute = createRoute({
  getParentRoute: () => appRoute,
  path: 'collections',
  component: lazyRouteComponent(() => import('./pages/collections'), 'CollectionsPage'),
})
const newCollectionRoute = createRoute({
  getParentRoute: () => appRoute,
  path: 'collections/new',
  component: lazyRouteComponent(() => import('./pages/collection-editor'), 'NewCollectionPage'),
})
const editCollectionRoute = createRoute({
  getParentRoute: () => appRoute,
  path: 'collections/$name/edit',
  component: lazyRouteComponent(() => import('./pages/collection-editor'), 'EditCollectionPage'),
})
const recordsRoute = createRoute({
  getParentRoute: () => appRoute,
  path: 'collections/$name/records',
  validateSearch: pageSearch,
  component: lazyRouteComponent(() => import('./pages/records'), 'RecordsPage'),
})
const usersRoute = createRoute({
  getParentRoute: () => appRoute,
  path: 'users',
  validateSearch: (search: Record<string, unknown>): PageSearch & { collection?: string } => ({
    ...pageSearch(search),
    ...(typeof search.collection === 'string' ? { collection: search.collection } : {}),
  }),
  component: lazyRouteComponent(() => import('./pages/users'), 'UsersPage'),
})
const userRoute = createRoute({
  getParentRoute: () => appRoute,
  path: 'users/$collection/$id',
  component: lazyRouteComponent(() => import('./pages/user'), 'UserPage'),
})
const apiKeysRoute = createRoute({
  getParentRoute: () => appRoute,
  path: 'api-keys',
  component: lazyRouteComponent(() => import('./pages/api-keys'), 'ApiKeysPage'),
})
const webhooksRoute = createRoute({
  getParentRoute: () => appRoute,
  path: 'webhooks',
  component: lazyRouteComponent(() => import('./pages/webhooks'), 'WebhooksPage'),
})
const webhookRoute = createRoute({
  getParentRoute: () => appRoute,
  path: 'webhooks/$id',
  component: lazyRouteComponent(() => import('./pages/webhook'), 'WebhookPage'),
})
const jobsRoute = createRoute({
  getParentRoute: () => appRoute,
  path: 'jobs',
  validateSearch: jobsSearch,
  component: lazyRouteComponent(() => import('./pages/jobs'), 'JobsPage'),
})
const logsRoute = createRoute({
  getParentRoute: () => appRoute,
  path: 'logs',
  validateSearch: logsSearch,
  component: lazyRouteComponent(() => import('./pages/logs'), 'LogsPage'),
})
const metricsRoute = createRoute({
  getParentRoute: () => appRoute,
  path: 'metrics',
  component: lazyRouteComponent(() => import('./pages/metrics'), 'MetricsPage'),
})
const auditRoute = createRoute({
  getParentRoute: () => appRoute,
  path: 'audit',
  validateSearch: auditSearch,
  component: lazyRouteComponent(() => import('./pages/audit'), 'AuditPage'),
})
const backupsRoute = createRoute({
  getParentRoute: () => appRoute,
  path: 'backups',
  component: lazyRouteComponent(() => import('./pages/backups'), 'BackupsPage'),
})
const settingsRoute = createRoute({
  getParentRoute: () => appRoute,
  path: 'settings',
  component: lazyRouteComponent(() => import('./pages/settings'), 'SettingsPage'),
})

const routeTree = rootRoute.addChildren([
  setupRoute,
  signInRoute,
  appRoute.addChildren([
    indexRoute,
    collectionsRoute,
    newCollectionRoute,
    editCollectionRoute,
    recordsRoute,
    usersRoute,
    userRoute,
    apiKeysRoute,
    webhooksRoute,
    webhookRoute,
    jobsRoute,
    logsRoute,
    metricsRoute,
    auditRoute,
    backupsRoute,
    settingsRoute,
  ]),
])

export function createAppRouter(queryClient: QueryClient) {
  return createRouter({
    routeTree,
    basepath: '/_',
    context: { queryClient },
    defaultPreload: 'intent',
    // Loading states come from the pages' queries; the router waits for nothing else.
    defaultPreloadStaleTime: 0,
  })
}

declare module '@tanstack/react-router' {
  interface Register {
    router: ReturnType<typeof createAppRouter>
  }
}
