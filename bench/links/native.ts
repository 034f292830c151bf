import { execFileSync } from "node:child_process";
import { mkdirSync, renameSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";

const BUILD_DIR = fileURLToPath(new URL("./build/", import.meta.url));

/**
 * The binary of `bench/links/<name>.c`, compiled with the machine's C compiler (`$CC` or `cc`)
 * into the git-ignored `bench/links/build/` when it is missing or older than its source.
 */
export function buildNative(name: "delay-line" | "ping"): string {
  const source = fileURLToPath(new URL(`./${name}.c`, import.meta.url));
  const binary = `${BUILD_DIR}${name}`;
  try {
    if (statSync(binary).mtimeMs >= statSync(source).mtimeMs) return binary;
  } catch {
    // not built yet
  }
  mkdirSync(BUILD_DIR, { recursive: true });
  // Built under a name of its own, then renamed: two processes building at once never run half a file.
  const partial = `${binary}.${process.pid}`;
  const compiler = process.env.CC ?? "cc";
  try {
    execFileSync(compiler, ["-O2", "-Wall", "-o", partial, source], { stdio: ["ignore", "ignore", "pipe"] });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? "";
    throw new Error(`building ${name} with ${compiler} failed: ${stderr || (error as Error).message}`);
  }
  renameSync(partial, binary);
  return binary;
}
