// The signed-in token lives in this tab's session storage only (gone when the tab closes), and is
// sent only to this page's origin (api.ts). Nothing here logs it.
const KEY = "altinn-events-console.token";

export function getToken(): string | null {
  try {
    return window.sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function setToken(token: string): void {
  window.sessionStorage.setItem(KEY, token);
}

export function clearToken(): void {
  window.sessionStorage.removeItem(KEY);
}

/**
 * A token handed over in the URL fragment (`#token=…`, which browsers never send to a server), as
 * `altinn-events token show --console` prints it: moved into session storage and removed from the
 * address bar and history at once.
 */
export function takeTokenFromFragment(): boolean {
  const hash = window.location.hash;
  if (!hash.startsWith("#token=")) return false;
  const token = decodeURIComponent(hash.slice("#token=".length)).trim();
  window.history.replaceState(null, "", window.location.pathname + window.location.search + "#/subscriptions");
  if (!token) return false;
  setToken(token);
  return true;
}

export interface Identity {
  who: string;
  scope: string | null;
  expires: Date | null;
}

/** What the token says about its holder, for display only (the service verifies it). */
export function describeToken(token: string): Identity | null {
  const part = token.split(".")[1];
  if (!part) return null;
  try {
    const json = atob(part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "="));
    const claims = JSON.parse(json) as Record<string, unknown>;
    const org = claims["urn:altinn:org"];
    const orgNumber = claims["urn:altinn:orgNumber"];
    const user = claims["urn:altinn:userid"];
    const party = claims["urn:altinn:partyid"];
    let who = "unknown holder";
    if (org) who = `organisation ${String(org)}`;
    else if (orgNumber) who = `organisation number ${String(orgNumber)}`;
    else if (user) who = `user ${String(user)}${party ? ` (party ${String(party)})` : ""}`;
    const exp = typeof claims.exp === "number" ? new Date(claims.exp * 1000) : null;
    const scope = typeof claims.scope === "string" ? claims.scope : null;
    return { who, scope, expires: exp };
  } catch {
    return null;
  }
}
