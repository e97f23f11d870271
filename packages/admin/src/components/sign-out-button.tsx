import { useQueryClient } from '@tanstack/react-query'
import { useLocation, useNavigate } from '@tanstack/react-router'
import { useState } from 'react'
import { signOut } from '../api/session'

/**
 * Ends the session and opens the sign-in page; with `comeBack`, the sign-in returns to this
 * page (a change that wants a fresh sign-in). The session ends here whatever the server
 * says: a failed call must not keep anyone in.
 */
export function SignOutButton({ label, comeBack = false }: { label: string; comeBack?: boolean }) {
  const { href } = useLocation()
  const navigate = useNavigate()
  const queryClient = useQueryClient()
  const [isLeaving, setLeaving] = useState(false)
  return (
    <button
      type="button"
      disabled={isLeaving}
      onClick={async () => {
        setLeaving(true)
        await signOut().catch(() => undefined)
        queryClient.clear()
        await navigate({ to: '/sign-in', search: comeBack ? { redirect: href } : {} })
      }}
    >
      {label}
    </button>
  )
}
