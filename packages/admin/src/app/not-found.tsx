import { Link } from '@tanstack/react-router'

export function NotFound() {
  return (
    <main className="centered">
      <h1>Page not found</h1>
      <p>
        There is no page at this address. <Link to="/">Go to the start page</Link>.
      </p>
    </main>
  )
}
