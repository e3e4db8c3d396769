#!/usr/bin/env node
// Runs the compiled CLI (built by `npm ci` / `npm start`); see src/cli/main.ts.
import { main } from '../dist/cli/main.js'

const code = await main(process.argv.slice(2))
if (code >= 0) process.exitCode = code
