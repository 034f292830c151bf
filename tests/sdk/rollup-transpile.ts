// A rollup plugin for the browser tests that bundle SDK sources themselves.
import type { Plugin } from "rollup";
import ts from "typescript";

/** TypeScript to JavaScript file by file: `npx tsc` type-checks these sources. */
export const transpile: Plugin = {
  name: "transpile",
  transform(code, id) {
    if (!id.endsWith(".ts")) return null;
    const out = ts.transpileModule(code, {
      fileName: id,
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
    });
    return { code: out.outputText, map: null };
  },
};
