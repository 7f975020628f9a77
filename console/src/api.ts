// The console speaks only the public Events API of the service that serves it, with the user's own
// token. Every request goes to this page's origin (a `next` link is followed by its path and query
// only); the token is never logged.
import type { components } from "./schema";
import { getToken } from "./session";

type Schemas = components["schemas"];
export type Subscription = Schemas["Subscription"];
export type SubscriptionList = Schemas["SubscriptionList"];
export type SubscriptionRequest = Schemas["SubscriptionRequest"];
export type CreatedSubscription = Schemas["CreatedSubscription"];
export type Attempt = Schemas["Attempt"];
export type AttemptLog = Schemas["AttemptLog"];
export type DeadLetter = Schemas["DeadLetter"];
export type DeadLetterList = Schemas["DeadLetterList"];
export type EndpointHealth = Schemas["EndpointHealth"];
export type ReplayRequest = Schemas["ReplayRequest"];
export type ReplayResult = Schemas["ReplayResult"];
export type RedeliverResult = Schemas["RedeliverResult"];
export type SigningSecret = Schemas["SigningSecret"];
export type CloudEvent = Schemas["CloudEvent"];
type ProblemDetails = Schemas["ProblemDetails"];
type ValidationProblemDetails = Schemas["ValidationProblemDetails"];

export const API = "/events/api/v1";

/** A non-2xx answer, in the API's own words. */
export class ApiError extends Error {
  readonly status: number;
  /** The API's message: a problem's `detail` (else `title`), a JSON string body, or the text body. */
  readonly text: string;
  /** A ValidationProblem's `errors`, field by field, as sent. */
  readonly fields: [string, string][];

  constructor(status: number, text: string, fields: [string, string][]) {
    super(text);
    this.status = status;
    this.text = text;
    this.fields = fields;
  }
}

async function readError(response: Response): Promise<ApiError> {
  const type = response.headers.get("content-type") ?? "";
  const body = await response.text().catch(() => "");
  const fallback = `${response.status} ${response.statusText}`.trim();
  if (!body) return new ApiError(response.status, fallback, []);
  if (type.includes("json")) {
    try {
      const parsed: unknown = JSON.parse(body);
      if (typeof parsed === "string") return new ApiError(response.status, parsed, []);
      if (parsed && typeof parsed === "object") {
        const problem = parsed as Partial<ProblemDetails & ValidationProblemDetails>;
        const fields: [string, string][] = [];
        for (const [field, messages] of Object.entries(problem.errors ?? {})) {
          for (const message of Array.isArray(messages) ? messages : [messages]) {
            fields.push([field, String(message)]);
          }
        }
        const text = problem.detail ?? problem.title ?? body;
        return new ApiError(response.status, text, fields);
      }
    } catch {
      // Not JSON after all: show it as text.
    }
  }
  return new ApiError(response.status, body, []);
}

/** `path` (absolute path or a full URL) as a path on this page's origin. */
export function sameOrigin(path: string): string {
  const url = new URL(path, window.location.origin);
  return url.pathname + url.search;
}

export interface Answer<T> {
  status: number;
  body: T;
  headers: Headers;
}

export async function request<T>(
  method: string,
  path: string,
  options: { json?: unknown; body?: string; contentType?: string; accept?: string } = {}
): Promise<Answer<T>> {
  const headers: Record<string, string> = {};
  const token = getToken();
  if (token) headers["Authorization"] = `Bearer ${token}`;
  let body: string | undefined;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers["Content-Type"] = options.contentType ?? "application/json";
  } else if (options.body !== undefined) {
    body = options.body;
    headers["Content-Type"] = options.contentType ?? "application/json";
  }
  if (options.accept) headers["Accept"] = options.accept;
  let response: Response;
  try {
    response = await fetch(sameOrigin(path), {
      method,
      headers,
      body,
      credentials: "same-origin",
      cache: "no-store",
      redirect: "error",
    });
  } catch (e) {
    throw new ApiError(0, `The service did not answer: ${(e as Error).message}`, []);
  }
  if (!response.ok) throw await readError(response);
  const text = await response.text();
  let parsed: unknown = text;
  if (text && (response.headers.get("content-type") ?? "").includes("json")) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  return { status: response.status, body: parsed as T, headers: response.headers };
}

/**
 * Opens a read as a Server-Sent Events stream (`Accept: text/event-stream`), with the token (which
 * an EventSource could not send) and `Last-Event-ID` when given. Answers the response once its
 * headers are in: the caller checks its Content-Type (a server without the stream answers the plain
 * page) and reads its body. A refusal throws the API's error; an abort (through `signal`) rethrows
 * the AbortError as is.
 */
export async function openStream(path: string, lastEventId: string | null, signal: AbortSignal): Promise<Response> {
  const headers: Record<string, string> = { Accept: "text/event-stream" };
  const token = getToken();
  if (token) headers["Authorization"] = `Bearer ${token}`;
  if (lastEventId) headers["Last-Event-ID"] = lastEventId;
  let response: Response;
  try {
    response = await fetch(sameOrigin(path), {
      method: "GET",
      headers,
      credentials: "same-origin",
      cache: "no-store",
      redirect: "error",
      signal,
    });
  } catch (e) {
    if (signal.aborted) throw e;
    throw new ApiError(0, `The service did not answer: ${(e as Error).message}`, []);
  }
  if (!response.ok) throw await readError(response);
  return response;
}

const enc = encodeURIComponent;

export const api = {
  listSubscriptions: () => request<SubscriptionList>("GET", `${API}/subscriptions`),
  getSubscription: (id: number) => request<Subscription>("GET", `${API}/subscriptions/${id}`),
  createSubscription: (body: SubscriptionRequest) =>
    request<CreatedSubscription>("POST", `${API}/subscriptions`, { json: body }),
  deleteSubscription: (id: number) => request<unknown>("DELETE", `${API}/subscriptions/${id}`),
  attempts: (path: string) => request<AttemptLog>("GET", path),
  attemptsPath: (id: number) => `${API}/subscriptions/${id}/attempts?size=1000`,
  deadLetters: (id: number) => request<DeadLetterList>("GET", `${API}/subscriptions/${id}/deadletters`),
  redeliver: (id: number) =>
    request<RedeliverResult>("POST", `${API}/subscriptions/${id}/deadletters/redeliver`),
  replay: (id: number, body: ReplayRequest) =>
    request<ReplayResult>("POST", `${API}/subscriptions/${id}/replay`, { json: body }),
  enable: (id: number) => request<EndpointHealth>("POST", `${API}/subscriptions/${id}/enable`),
  secret: (id: number) => request<SigningSecret>("GET", `${API}/subscriptions/${id}/secret`),
  rotateSecret: (id: number) =>
    request<SigningSecret>("POST", `${API}/subscriptions/${id}/secret/rotate`),
  events: (path: string) => request<CloudEvent[]>("GET", path),
  publish: (body: string) =>
    request<unknown>("POST", `${API}/events`, {
      body,
      contentType: "application/cloudevents+json",
    }),
  enc,
};
