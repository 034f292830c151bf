declare const __SWARMCAST_VERSION__: string;

/** The SDK's version, stamped from package.json at build time. */
export const version: string = typeof __SWARMCAST_VERSION__ === "string" ? __SWARMCAST_VERSION__ : "0.0.0-dev";
