import { useSyncExternalStore } from 'react'

export type Theme = 'light' | 'dark'

const STORAGE_KEY = 'plinth-admin:theme'
const prefersDark = window.matchMedia('(prefers-color-scheme: dark)')
const listeners = new Set<() => void>()

function chosenTheme(): Theme | null {
  const stored = localStorage.getItem(STORAGE_KEY)
  return stored === 'light' || stored === 'dark' ? stored : null
}

/** The theme in use: the one chosen with the toggle, else the system's. */
export function currentTheme(): Theme {
  return chosenTheme() ?? (prefersDark.matches ? 'dark' : 'light')
}

/**
 * Puts the theme on <html> (the stylesheet reads `data-theme`). Runs before the first
 * render, from the entry module: the page's CSP allows no inline script to do it earlier.
 */
export function applyTheme(): void {
  document.documentElement.dataset.theme = currentTheme()
  for (const listener of listeners) listener()
}

export function setTheme(theme: Theme): void {
  localStorage.setItem(STORAGE_KEY, theme)
  applyTheme()
}

prefersDark.addEventListener('change', applyTheme)

export function useTheme(): Theme {
  return useSyncExternalStore((listener) => {
    listeners.add(listener)
    return () => listeners.delete(listener)
  }, currentTheme)
}
