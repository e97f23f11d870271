import { useQuery } from '@tanstack/react-query'
import { Link, Outlet, useRouteContext } from '@tanstack/react-router'
import { describeError } from '../api/problem'
import { collectionsQuery } from '../api/queries'
import { SignOutButton } from '../components/sign-out-button'
import { setTheme, useTheme } from './theme'

const sections = [
  { to: '/collections', label: 'Collections' },
  { to: '/users', label: 'Users' },
  { to: '/api-keys', label: 'API keys' },
  { to: '/webhooks', label: 'Webhooks' },
  { to: '/jobs', label: 'Jobs' },
  { to: '/logs', label: 'Logs' },
  { to: '/metrics', label: 'Metrics' },
  { to: '/audit', label: 'Audit log' },
  { to: '/backups', label: 'Backups' },
  { to: '/settings', label: 'Settings' },
] as const

/** The frame of every signed-in page: the header, the navigation and the page itself. */
export function Shell() {
  const { superuser } = useRouteContext({ from: '/_app' })
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/" className="brand">
          Plinth
        </Link>
        <ThemeToggle />
        <span className="who">{superuser.email}</span>
        <SignOutButton label="Sign out" />
      </header>
      <nav className="sidebar" aria-label="Main">
        <ul>
          {sections.map((section) => (
            <li key={section.to}>
              <Link to={section.to} activeProps={{ 'aria-current': 'page' }}>
                {section.label}
              </Link>
            </li>
          ))}
          <li>
            <a href="/api/docs" target="_blank" rel="noopener">
              API reference (opens in a new tab)
            </a>
          </li>
        </ul>
        <RecordsNav />
      </nav>
      <main id="main" className="content" tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  )
}

/** The records of each collection, one link per collection. */
function RecordsNav() {
  const collections = useQuery(collectionsQuery())
  return (
    <section aria-labelledby="records-nav">
      <h2 id="records-nav">Records</h2>
      {collections.isPending && <p role="status">Loading collections…</p>}
      {collections.isError && <p role="alert">{describeError(collections.error)}</p>}
      {collections.data && (
        <ul>
          {collections.data.items.map((collection) => (
            <li key={collection.id}>
              <Link
                to="/collections/$name/records"
                params={{ name: collection.name }}
                activeProps={{ 'aria-current': 'page' }}
              >
                {collection.name}
              </Link>
            </li>
          ))}
        </ul>
      )}
    </section>
  )
}

function ThemeToggle() {
  const theme = useTheme()
  const next = theme === 'dark' ? 'light' : 'dark'
  return (
    <button type="button" aria-pressed={theme === 'dark'} onClick={() => setTheme(next)}>
      Dark theme
    </button>
  )
}
