export {
  type Access,
  allows,
  assertMayTry,
  authorize,
  type RuleRequest,
} from './access.js'
export { checkRules } from './definition-check.js'
export { keyReach } from './key-scope.js'
