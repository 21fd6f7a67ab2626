import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const ortOrUi = {
  patterns: [
    { group: ['react', 'react-dom', 'react/*', 'zustand', 'zustand/*'], message: 'The core has no UI.' },
    { group: ['onnxruntime-*', '@huggingface/*'], message: 'The core runs models only through the Models interface.' },
    {
      group: ['**/worker/**', '**/components/**', '**/store/**', '**/client/**'],
      message: 'The core depends on nothing above it.',
    },
  ],
};

export default tseslint.config(
  {
    ignores: [
      'dist',
      'node_modules',
      'public/models',
      'public/tokenizers',
      'bench/results',
      '.scratch',
      'test-results',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.browser, ...globals.node },
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
  // Test doubles implement async interfaces with values at hand.
  { files: ['tests/**/*.ts'], rules: { '@typescript-eslint/require-await': 'off' } },
  {
    files: ['src/**/*.tsx', 'src/**/*.ts'],
    plugins: { 'react-hooks': reactHooks },
    rules: reactHooks.configs.recommended.rules,
  },
  {
    files: ['src/core/**/*.ts', 'src/protocol/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', ortOrUi] },
  },
);
