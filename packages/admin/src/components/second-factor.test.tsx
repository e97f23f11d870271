// @vitest-environment happy-dom
import { QueryClient, QueryClientProvider } from '@tanstack/react-query'
import {
  createMemoryHistory,
  createRootRoute,
  createRoute,
  createRouter,
  Outlet,
  RouterProvider,
} from '@tanstack/react-router'
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react'
import type { ReactNode } from 'react'
import { afterEach, describe, expect, test, vi } from 'vitest'
import type { MfaStatus } from '../api/types'
import { Passkeys } from './passkeys'
import { SecondFactor } from './second-factor'

const SUPERUSERS = '/api/collections/_superusers'
const STALE = {
  type: 'urn:plinth:error:reauthentication_required',
  title: 'Forbidden',
  status: 403,
  detail: 'This change needs a sign-in within the last 10 minutes; sign in again and retry.',
}
const off: MfaStatus = {
  required: false,
  enrollmentRequired: false,
  totp: false,
  recoveryCodesLeft: 0,
  passkeys: 1,
}
const passkey = { id: 'pk1', name: 'Work laptop', created: '2031-03-01T09:00:00.000Z', lastUsed: null }

function json(body: unknown, status = 200): Response {
  const type = status < 400 ? 'application/json' : 'application/problem+json'
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': type } })
}

/** The API as a session older than the re-authentication window sees it: reads work, changes do not. */
function staleSession() {
  const calls: string[] = []
  vi.stubGlobal('fetch', async (url: string, init: RequestInit = {}) => {
    const method = init.method ?? 'GET'
    calls.push(`${method} ${url}`)
    if (method === 'GET' && url === `${SUPERUSERS}/mfa`) return json(off)
    if (method === 'GET' && url === `${SUPERUSERS}/passkeys`)
      return json({ items: [passkey], page: 1, perPage: 1, totalItems: 1, totalPages: 1 })
    return json(STALE, 403)
  })
  return calls
}

function renderOnSettings(page: () => ReactNode) {
  const rootRoute = createRootRoute({ component: Outlet })
  const router = createRouter({
    routeTree: rootRoute.addChildren([
      createRoute({ getParentRoute: () => rootRoute, path: 'settings', component: page }),
      createRoute({
        getParentRoute: () => rootRoute,
        path: 'sign-in',
        component: () => <h1>Sign in to Plinth</h1>,
      }),
    ]),
    history: createMemoryHistory({ initialEntries: ['/settings'] }),
  })
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } })
  render(
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
    </QueryClientProvider>,
  )
  return router
}

afterEach(() => {
  cleanup()
  vi.unstubAllGlobals()
  vi.restoreAllMocks()
})

describe('changing a second factor with a stale session', () => {
  test('turning on the authenticator app says a new sign-in is needed, and leads to it and back', async () => {
    const calls = staleSession()
    const router = renderOnSettings(SecondFactor)
    fireEvent.click(await screen.findByRole('button', { name: 'Turn on the authenticator app' }))

    const alert = await screen.findByRole('alert')
    expect(alert.textContent).toContain(STALE.detail)
    expect(calls).toContain(`POST ${SUPERUSERS}/mfa/totp/setup`)
    expect(screen.queryByRole('textbox', { name: 'Secret' })).toBeNull()

    fireEvent.click(within(alert).getByRole('button', { name: 'Sign in again' }))
    await screen.findByRole('heading', { name: 'Sign in to Plinth' })
    // The stale session ends rather than lingering beside the new one.
    expect(calls).toContain(`POST ${SUPERUSERS}/auth-logout`)
    expect(router.state.location.pathname).toBe('/sign-in')
    expect(router.state.location.search).toEqual({ redirect: '/settings' })
  })

  test('removing a passkey says so beside its button, and the passkey stays listed', async () => {
    const calls = staleSession()
    vi.stubGlobal('confirm', () => true)
    renderOnSettings(Passkeys)
    const table = await screen.findByRole('table', { name: 'Passkeys' })
    fireEvent.click(within(table).getByRole('button', { name: 'Remove Work laptop' }))

    const alert = await within(table).findByRole('alert')
    expect(alert.textContent).toContain(STALE.detail)
    expect(within(alert).getByRole('button', { name: 'Sign in again' })).toBeTruthy()
    expect(calls).toContain(`DELETE ${SUPERUSERS}/passkeys/pk1`)
    await waitFor(() => expect(within(table).getByRole('cell', { name: 'Work laptop' })).toBeTruthy())
  })
})
