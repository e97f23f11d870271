import { useId } from 'react'
import { ApiError } from '../api/problem'
import { FilterInput } from './filter-input'
import type { FilterSchema } from './filter-syntax'

export const ruleNames = ['listRule', 'viewRule', 'createRule', 'updateRule', 'deleteRule'] as const
export type RuleName = (typeof ruleNames)[number]
export type Rules = Record<RuleName, string | null>

const ruleTitles: Record<RuleName, { title: string; everyone: string }> = {
  listRule: { title: 'List rule', everyone: 'lists records' },
  viewRule: { title: 'View rule', everyone: 'reads a record' },
  createRule: { title: 'Create rule', everyone: 'creates records' },
  updateRule: { title: 'Update rule', everyone: 'updates records' },
  deleteRule: { title: 'Delete rule', everyone: 'deletes records' },
}

/**
 * The five rules. `null` (locked: superusers only) and `""` (everyone, guests included) are
 * both easy to mean by mistake, so each rule says in words which one it is.
 */
export function RulesEditor({
  rules,
  onChange,
  schema,
  error,
  readOnly = [],
}: {
  rules: Rules
  onChange: (rules: Rules) => void
  schema: FilterSchema
  error?: unknown
  /** Rules that must stay locked (a view's create, update and delete). */
  readOnly?: RuleName[]
}) {
  return (
    <section aria-labelledby="rules-heading" className="rules-editor">
      <h2 id="rules-heading">Rules</h2>
      <p className="hint">
        A rule is a filter each record must pass for the caller. Superusers pass every rule. See
        docs/rules.md.
      </p>
      {ruleNames.map((name) => (
        <RuleInput
          key={name}
          name={name}
          value={rules[name]}
          schema={schema}
          disabled={readOnly.includes(name)}
          error={error instanceof ApiError ? error.fieldMessage(name) : undefined}
          onChange={(value) => onChange({ ...rules, [name]: value })}
        />
      ))}
    </section>
  )
}

function RuleInput({
  name,
  value,
  schema,
  disabled,
  error,
  onChange,
}: {
  name: RuleName
  value: string | null
  schema: FilterSchema
  disabled: boolean
  error?: string
  onChange: (value: string | null) => void
}) {
  const id = useId()
  const { title, everyone } = ruleTitles[name]
  const locked = value === null
  return (
    <fieldset className="rule">
      <legend>{title}</legend>
      <label className="check" htmlFor={id}>
        <input
          id={id}
          type="checkbox"
          checked={locked}
          disabled={disabled}
          onChange={(event) => onChange(event.target.checked ? null : '')}
        />{' '}
        Locked: superusers only
      </label>
      {locked ? (
        <p className="rule-state">
          Locked (<code>null</code>): only superusers.
          {error && (
            <span className="field-error">
              {' '}
              {title}: {error}
            </span>
          )}
        </p>
      ) : (
        <FilterInput
          label={title}
          value={value}
          onChange={onChange}
          schema={schema}
          error={error}
          placeholder="Empty: everyone"
          hint={
            value.trim() === ''
              ? `Empty: everyone ${everyone}, guests included.`
              : `Callers for whom this filter holds; Ctrl+Space suggests names.`
          }
        />
      )}
    </fieldset>
  )
}
