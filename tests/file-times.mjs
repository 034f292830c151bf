// Test reporter that prints how long each test file took (its whole process), slowest first,
// at the end of the run. Written synchronously on the run's first summary line: with
// --test-force-exit the process ends before the event stream does.
import { writeSync } from "node:fs";
import { relative } from "node:path";

export default async function* fileTimes(source) {
  const perFile = new Map();
  for await (const { type, data } of source) {
    if (type === "test:complete" && data.nesting === 0 && data.name.endsWith(".test.ts")) {
      perFile.set(relative(process.cwd(), data.name), data.details.duration_ms);
    } else if (type === "test:diagnostic" && data.nesting === 0 && data.message.startsWith("tests ")) {
      writeSync(1, table(perFile));
    }
  }
}

function table(perFile) {
  const rows = [...perFile].sort((a, b) => b[1] - a[1]);
  const lines = rows.map(([file, ms]) => `# ${(ms / 1000).toFixed(1).padStart(7)} s  ${file}`);
  return `\n# time per test file\n${lines.join("\n")}\n\n`;
}
