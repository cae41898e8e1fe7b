// The house style that a machine can check (CONTRIBUTING.md lists the rest). `pnpm lint:code` runs it.
// No type-aware rules: they would need a TypeScript program per package and take minutes on 2 cores.
import path from 'node:path';
import tseslint from 'typescript-eslint';

const KEBAB_FILE = /^[a-z0-9]+(-[a-z0-9]+)*(\.[a-z0-9]+)*$/;

// Acronyms are upper-case inside a name and lower-case at its start (`createCGA`, `lsqQuantize`,
// `weightSQNR`); these are the title-cased spellings that break the rule. `Ofq` is allowed only in
// `OfqError`, the name of the library's error base.
const TITLE_CASED_ACRONYM = '(Lsq|Cga|Qkr|Sqnr|Onnx|Qat|Ofq(?!Error))';

/** Local rules: file names, and no pointers to documents outside the repository. */
const ofqPlugin = {
  rules: {
    'kebab-case-file': {
      meta: { type: 'suggestion', schema: [], messages: { name: 'File name "{{name}}" is not kebab-case.' } },
      create(context) {
        const name = path.basename(context.filename);
        if (!KEBAB_FILE.test(name)) context.report({ loc: { line: 1, column: 0 }, messageId: 'name', data: { name } });
        return {};
      },
    },
    'no-outside-docs': {
      meta: {
        type: 'problem',
        schema: [],
        messages: {
          path: 'Cite docs/algorithm.md §N or docs/decisions.md #N, not a file outside the repository.',
          cite: 'Cite "docs/algorithm.md §N" / "docs/decisions.md #N" (the repository\'s own notes), not "spec §N" / "decision #N".',
        },
      },
      create(context) {
        return {
          Program() {
            for (const c of context.sourceCode.getAllComments()) {
              if (/\.\.\/shared\/|\/work\/shared|shared\/spec\//.test(c.value)) context.report({ loc: c.loc, messageId: 'path' });
              else if (/\bspec §|\bdecisions? #\d/.test(c.value)) context.report({ loc: c.loc, messageId: 'cite' });
            }
          },
        };
      },
    },
  },
};

export default tseslint.config(
  {
    ignores: ['**/node_modules/**', '**/dist/**', '**/build/**', '**/.turbo/**', 'golden/**', '**/bench/results/**', '.vitest/**'],
  },
  {
    files: ['**/*.{ts,mts,cts,js,mjs,cjs}'],
    languageOptions: { parser: tseslint.parser, ecmaVersion: 2022, sourceType: 'module' },
    plugins: { '@typescript-eslint': tseslint.plugin, ofq: ofqPlugin },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      'ofq/kebab-case-file': 'error',
      'ofq/no-outside-docs': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { args: 'after-used', argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
      '@typescript-eslint/no-explicit-any': 'warn',
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^@ofq/[^/]+/src(/|$)',
              message: "Import another package's public exports (its index.ts), not its internals.",
            },
            { regex: '(^|/)shared/', message: 'Code must not read files outside the repository.' },
          ],
        },
      ],
      '@typescript-eslint/naming-convention': [
        'error',
        {
          selector: ['variable', 'function', 'class', 'interface', 'typeAlias', 'enum'],
          modifiers: ['exported'],
          format: null,
          custom: { regex: TITLE_CASED_ACRONYM, match: false },
        },
        {
          selector: ['classMethod', 'classProperty', 'typeMethod', 'typeProperty', 'objectLiteralMethod'],
          format: null,
          custom: { regex: TITLE_CASED_ACRONYM, match: false },
        },
      ],
    },
  },
  {
    // Consumers use the WeightQuantizer / ActivationQuantizer contracts, never a class check
    // (CONTRIBUTING.md, "No instanceof to defeat an interface"). Tests may inspect concrete classes.
    files: ['packages/*/src/**/*.ts', 'examples/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      // warn: @ofq/runtime checks its own FixedWeightQuantizer class (deit-slots.ts) until that goes through the contract.
      'no-restricted-syntax': [
        'warn',
        {
          selector: "BinaryExpression[operator='instanceof'][right.name=/Quantizer$/]",
          message: 'Use the quantizer contract (@ofq/core) instead of instanceof on a quantizer class.',
        },
      ],
    },
  },
);
