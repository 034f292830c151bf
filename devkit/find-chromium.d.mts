export function playwrightCache(): string;
export function chromiumCandidates(): string[];
export function findChromium(): string | undefined;
