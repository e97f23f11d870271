import type { CollectionDefinition, LinkKind } from '../../collections/index.js'

/** The page of Plinth's own that the link of each mail opens by default. */
export const confirmPages: Record<LinkKind, string> = {
  verification: 'confirm-verification',
  passwordReset: 'confirm-password-reset',
  emailChange: 'confirm-email-change',
}

/**
 * Where the link of a mail points: the collection's `options.mailLinks.<kind>` (an
 * app that handles links itself, checked to be an http(s) URL without a fragment
 * when the collection was saved), else Plinth's page at `/_/auth/<action>`.
 */
export function linkBase(collection: CollectionDefinition, kind: LinkKind, publicUrl: string): string {
  return collection.options.mailLinks?.[kind] ?? `${publicUrl}/_/auth/${confirmPages[kind]}`
}

/**
 * The token rides in the fragment, which browsers never send to a server: it stays
 * out of access logs, proxies and Referer headers.
 */
export function linkWithToken(base: string, collection: CollectionDefinition, token: string): string {
  return `${base}#token=${token}&collection=${encodeURIComponent(collection.name)}`
}
