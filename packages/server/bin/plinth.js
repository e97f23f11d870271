#!/usr/bin/env -S node --max-semi-space-size=8 --disable-proto=delete
// --max-semi-space-size keeps the young generation small; see docs/decisions/0002-young-generation-size.md.
// --disable-proto=delete removes Object.prototype.__proto__, so no key of client input can reach a prototype
// through it, whatever code reads the input (docs/security.md). package.json's `start` passes the same flags.
import '../dist/bundle/main.js'
