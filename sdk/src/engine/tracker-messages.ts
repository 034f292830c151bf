import { TOKEN_QUERY_PARAM } from "../../../shared/protocol";

/**
 * A browser cannot read why a WebSocket upgrade was refused (the HTTP 401/403 body is hidden),
 * so "Error connecting to <url>" is all PML reports. Says what it likely means, without
 * repeating the access token into logs.
 */
export function describeTrackerWarning(message: string, trackers: string[]): string {
  const connecting = /^Error connecting to (\S+)/.exec(message);
  if (!connecting) return `tracker warning: ${redactToken(message)}`;
  const url = redactToken(connecting[1]);
  const sentToken = trackers.some((t) => new URL(t).searchParams.has(TOKEN_QUERY_PARAM));
  return (
    `tracker ${url} unreachable or refused the connection ` +
    (sentToken
      ? "(a private tracker refuses a forged or expired token: check the token option)"
      : "(a private tracker refuses viewers without a token: set the token option)") +
    "; playing on from HTTP"
  );
}

export function redactToken(text: string): string {
  return text.replace(new RegExp(`([?&]${TOKEN_QUERY_PARAM}=)[^&\\s]*`, "g"), "$1…");
}
