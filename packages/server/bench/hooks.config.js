// The hooks of the `create-hooks` scenario: one no-op before-hook and one after-hook on
// posts, so the ratio is the cost of the hook machinery itself.
export default {
  hooks: {
    posts: {
      beforeCreate() {},
      afterCreate() {},
    },
  },
}
