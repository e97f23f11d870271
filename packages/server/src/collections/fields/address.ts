import type { FieldDefinition } from '../types.js'
import { type FieldKind, FieldValueError, isBlank } from './field-kind.js'

const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i

function checkDomainLists(field: FieldDefinition): Record<string, string> {
  const problems: Record<string, string> = {}
  for (const key of ['onlyDomains', 'exceptDomains'] as const) {
    const list = field[key]
    if (list === undefined) continue
    if (
      !Array.isArray(list) ||
      list.length > 100 ||
      !list.every((d) => typeof d === 'string' && DOMAIN.test(d))
    )
      problems[key] = 'must be a list of at most 100 domain names'
  }
  if (field.onlyDomains?.length && field.exceptDomains?.length)
    problems.exceptDomains = 'cannot be combined with onlyDomains'
  return problems
}

function checkDomain(field: FieldDefinition, host: string): void {
  const domain = host.toLowerCase()
  const matches = (list: string[]) =>
    list.some((d) => domain === d.toLowerCase() || domain.endsWith(`.${d.toLowerCase()}`))
  if (field.onlyDomains?.length && !matches(field.onlyDomains))
    throw new FieldValueError('domain_not_allowed', 'the domain is not allowed')
  if (field.exceptDomains?.length && matches(field.exceptDomains))
    throw new FieldValueError('domain_not_allowed', 'the domain is not allowed')
}

export const emailField: FieldKind = {
  type: 'email',
  options: ['onlyDomains', 'exceptDomains'],
  checkDefinition: checkDomainLists,
  valueSchema: () => ({ type: 'string', maxLength: 254 }),
  normalize(field, value) {
    // Stored NFC-normalised and lower-cased, so uniqueness is case-insensitive.
    const email = (value as string).trim().normalize('NFC').toLowerCase()
    if (email === '') return ''
    const at = email.lastIndexOf('@')
    if (at < 1 || /\s/.test(email) || !DOMAIN.test(email.slice(at + 1)) || email.slice(0, at).length > 64)
      throw new FieldValueError('invalid_email', 'must be a valid email address')
    checkDomain(field, email.slice(at + 1))
    return email
  },
  emptyValue: () => '',
  isEmpty: isBlank,
}

export const urlField: FieldKind = {
  type: 'url',
  options: ['onlyDomains', 'exceptDomains'],
  checkDefinition: checkDomainLists,
  valueSchema: () => ({ type: 'string', maxLength: 2048 }),
  normalize(field, value) {
    const text = (value as string).trim()
    if (text === '') return ''
    let url: URL
    try {
      url = new URL(text)
    } catch {
      throw new FieldValueError('invalid_url', 'must be an absolute http(s) URL')
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new FieldValueError('invalid_url', 'must be an absolute http(s) URL')
    checkDomain(field, url.hostname)
    return text
  },
  emptyValue: () => '',
  isEmpty: isBlank,
}
