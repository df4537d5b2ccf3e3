// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "data/", "results/", "scratch/", "test-artifacts/", "models/", "loadtest/**/*.js", "src/ui/assets/markdown-it.js"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-restricted-syntax": [
        "error",
        { selector: "ExportDefaultDeclaration", message: "No default exports." },
        {
          selector: "MemberExpression[object.name='process'][property.name='env']",
          message: "Read the environment only in src/config (pass values in).",
        },
      ],
    },
  },
  {
    // Type-aware rules (the typescript-eslint project service reads tsconfig.json).
    files: ["**/*.ts"],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/no-unnecessary-type-assertion": "error",
    },
  },
  {
    files: ["src/config/**", "src/cli.ts", "src/engine/shard-process.ts", "test/**", "bench/**", "loadtest/**", "vitest.config.ts"],
    rules: { "no-restricted-syntax": ["error", { selector: "ExportDefaultDeclaration", message: "No default exports." }] },
  },
  {
    files: ["vitest.config.ts", "eslint.config.js"],
    rules: { "no-restricted-syntax": "off" },
  },
);
