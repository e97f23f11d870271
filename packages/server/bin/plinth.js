#!/usr/bin/env -S node --max-semi-space-size=8
// The flag keeps the young generation small; see docs/decisions/0002-young-generation-size.md.
import '../dist/cli/main.js'
