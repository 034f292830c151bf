export function pinnedLockfile(
  names: string[],
  lockfile?: unknown,
): { lockfileVersion: number; packages: Record<string, unknown> };
