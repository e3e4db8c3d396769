import { ESLint } from 'eslint'
import { describe, expect, it } from 'vitest'
import { REPO } from './helpers/process.js'

const eslint = new ESLint({ cwd: REPO })

async function importErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath })
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message)
}

describe('layer boundaries (eslint no-restricted-imports)', () => {
  const cases: [string, string, boolean][] = [
    ['src/db/x.ts', "import { buildHttpServer } from '../http/index.js'", true],
    ['src/lib/x.ts', "import { openDatabase } from '../db/index.js'", true],
    ['src/filter/x.ts', "import { CollectionService } from '../schema/index.js'", true],
    ['src/schema/x.ts', "import { AuthService } from '../auth/index.js'", true],
    ['src/schema/x.ts', "import { parseFilter } from '../filter/parse.js'", true],
    ['src/auth/x.ts', "import { buildHttpServer } from '../http/index.js'", true],
    ['src/schema/x.ts', "import { parseFilter } from '../filter/index.js'", false],
    ['src/http/x.ts', "import { AuthService } from '../auth/index.js'", false],
    ['src/db/dialects/x.ts', "import { quoteDouble } from './shared.js'", false],
  ]
  for (const [file, code, forbidden] of cases) {
    it(`${file}: ${code} is ${forbidden ? 'refused' : 'allowed'}`, async () => {
      const errors = await importErrors(file, `${code}\nexport const _v = 1\n`)
      expect(errors.length > 0).toBe(forbidden)
    })
  }
})
