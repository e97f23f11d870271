export { type Access, assertRuleOpen, checkAccess, type RuleRequest } from './access.js'
export { checkRules } from './definition-check.js'
