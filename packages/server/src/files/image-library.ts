import type Sharp from 'sharp'

let loading: Promise<typeof Sharp> | undefined

/**
 * sharp, loaded with the first image that needs it: libvips takes about 100 ms to load,
 * which every start (and every CLI command) would otherwise pay for nothing.
 */
export function loadSharp(): Promise<typeof Sharp> {
  loading ??= import('sharp').then((module) => module.default)
  return loading
}
