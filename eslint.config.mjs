import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import regexp from 'eslint-plugin-regexp';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.node-red/', '.sim/', '.stryker-tmp/', 'reports/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Node-RED node constructors name their `this` (`const node = this`) for the callbacks.
      '@typescript-eslint/no-this-alias': 'off',
    },
  },
  {
    // A promise a node starts and nobody awaits or catches can stop Node-RED: none may be left alone.
    files: ['nodes/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: false }],
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    // No regex that can backtrack runs over outside input: one message must not stall every flow.
    // The analysis finds single-character attacks; test/fuzz/regex.test.ts tries every regex of
    // nodes/ with longer ones at the decode limit.
    files: ['nodes/**/*.ts'],
    plugins: { regexp },
    rules: {
      'regexp/no-super-linear-backtracking': ['error', { report: 'potential' }],
      'regexp/no-super-linear-move': [
        'error',
        { report: 'potential', ignoreSticky: false, ignorePartial: false },
      ],
    },
  },
  {
    // Editor code, run in the browser by the Node-RED editor (a node's script: nodes/<system>/<type>.editor.js).
    files: ['resources/**/*.js', 'nodes/**/*.editor.js'],
    languageOptions: {
      sourceType: 'script',
      globals: { window: 'readonly', document: 'readonly', $: 'readonly', RED: 'readonly' },
    },
  },
  {
    files: ['scripts/**/*.js', '.ci/**/*.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: {
        require: 'readonly',
        __dirname: 'readonly',
        process: 'readonly',
        console: 'readonly',
        setTimeout: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
