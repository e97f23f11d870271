import type { BuildCompilerFromPool } from '@fastify/ajv-compiler'

type BuildValidator = BuildCompilerFromPool
type Validate = ((data: unknown) => boolean) & { errors?: unknown }

/**
 * Compiles a route's schema on the route's first request rather than at start: compiling
 * every route's schemas took a tenth of the cold start, and a process serves few of its
 * routes in its first seconds, many never. Fastify reads a failed check's `errors` from
 * the function it was given, so the wrapper passes them on.
 */
export function compiledOnFirstUse(buildValidator: BuildValidator): BuildValidator {
  return (externalSchemas, options) => {
    const compile = buildValidator(externalSchemas, options) as unknown as (route: unknown) => Validate
    return ((route: unknown) => {
      let validate: Validate | undefined
      const validateOnFirstUse: Validate = (data) => {
        validate ??= compile(route)
        const valid = validate(data)
        validateOnFirstUse.errors = validate.errors
        return valid
      }
      return validateOnFirstUse
    }) as unknown as ReturnType<BuildValidator>
  }
}
