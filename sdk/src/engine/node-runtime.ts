/**
 * What PML expects of a browser that a Node runtime lacks, supplied from the runtime's globals
 * when PML runs outside a page (the engine entry's Node build, the bench's virtual viewers).
 */

type Constructor = new (...args: never[]) => object;

/**
 * PML reads `navigator.userAgent` (to detect Safari) when it starts a swarm; Node has no
 * `navigator` before version 21. Defines the minimal one only where there is none.
 */
export function ensureNavigator(): void {
  if (typeof navigator !== "undefined") return;
  const nodeProcess = (globalThis as { process?: { version: string } }).process;
  const runtime = nodeProcess ? `Node.js/${nodeProcess.version}` : "unknown";
  Object.defineProperty(globalThis, "navigator", { value: { userAgent: runtime }, configurable: true, writable: true });
}

/**
 * A constructor that builds the global class `name` as it is when called (wrapped by `wrap`),
 * so an implementation installed as globals after this module loaded (e.g. `@roamhq/wrtc`) is used.
 */
export function constructorFromGlobals(
  name: string,
  wrap: (impl: Constructor) => Constructor = (impl) => impl,
): Constructor {
  return function (this: unknown, ...args: never[]) {
    const Impl = (globalThis as Record<string, unknown>)[name] as Constructor | undefined;
    if (!Impl) throw new Error(`${name} is not available: install a WebRTC implementation as globals first`);
    const Class = wrap(Impl);
    return new Class(...args);
  } as unknown as Constructor;
}
