import { QueryClient, QueryClientProvider } from '@tanstack/react-query'
import { RouterProvider } from '@tanstack/react-router'
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { onSignedOut } from './api/client'
import { ApiError } from './api/problem'
import { queryKeys } from './api/queries'
import { applyTheme } from './app/theme'
import { createAppRouter } from './router'
import './styles.css'

applyTheme()

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 10_000,
      // A 4xx will not change by asking again; a dropped connection might.
      retry: (failures, error) => !(error instanceof ApiError && error.status < 500) && failures < 2,
    },
  },
})
const router = createAppRouter(queryClient)

onSignedOut(() => {
  queryClient.setQueryData(queryKeys.session, null)
  const { pathname, href } = router.state.location
  if (!pathname.startsWith('/sign-in') && !pathname.startsWith('/setup'))
    void router.navigate({ to: '/sign-in', search: { redirect: href } })
})

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
    </QueryClientProvider>
  </StrictMode>,
)
