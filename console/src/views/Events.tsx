import { useEffect, useRef, useState } from "react";
import { Alert, Button, Checkbox, Fieldset, Heading, Paragraph, Radio, Table, Textfield } from "@digdir/designsystemet-react";
import { API, ApiError, api, openStream, sameOrigin, type CloudEvent } from "../api";
import { Empty, ErrorMessage, ListTable, Loading, formatTime } from "../common";
import { SseParser } from "../sse";

type Mode = "resource" | "app" | "party";
/** The poll interval when the server answers the stream request with a plain page. */
const FOLLOW_MS = 2000;
/** The first reconnect delay after the stream ended or broke; doubled per failure, up to the max. */
const RECONNECT_MS = 1000;
const RECONNECT_MAX_MS = 15000;
const PAGE = 50;

function resourceUrn(value: string): string {
  const v = value.trim();
  return v.startsWith("urn:") ? v : `urn:altinn:resource:${v}`;
}

function firstPath(mode: Mode, q: Record<string, string>): string {
  const p = new URLSearchParams();
  p.set("after", "0");
  p.set("size", String(PAGE));
  if (mode === "resource") {
    p.set("resource", resourceUrn(q.resource ?? ""));
    if (q.subject?.trim()) p.set("subject", q.subject.trim());
    if (q.type?.trim()) p.append("type", q.type.trim());
    return `${API}/events?${p}`;
  }
  if (q.type?.trim()) p.append("type", q.type.trim());
  if (mode === "app") {
    return `${API}/app/${encodeURIComponent(q.org?.trim() ?? "")}/${encodeURIComponent(q.app?.trim() ?? "")}?${p}`;
  }
  p.set("party", q.party?.trim() ?? "");
  return `${API}/app/party?${p}`;
}

/** `path` with its `after` cursor moved to `id` (the `next` a page ending at `id` would give). */
function withAfter(path: string, id: string): string {
  const url = new URL(path, window.location.origin);
  url.searchParams.set("after", id);
  return sameOrigin(url.toString());
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = window.setTimeout(done, ms);
    function done() {
      window.clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });
}

type FollowState = "connecting" | "live" | "reconnecting" | "polling";

interface Stream {
  events: CloudEvent[];
  /** Where the next page is read from (the `next` header), or null when the API gave none. */
  next: string | null;
  loading: boolean;
  error: unknown;
}

const FOLLOW_STATES: Record<FollowState, string> = {
  connecting: "Connecting to the live stream…",
  live: "New events appear as they are published.",
  reconnecting: "The stream ended; reconnecting…",
  polling: "No live stream here: polling every 2 s.",
};

export function Events() {
  const [mode, setMode] = useState<Mode>("resource");
  const [q, setQ] = useState<Record<string, string>>({});
  const [stream, setStream] = useState<Stream | null>(null);
  const [follow, setFollow] = useState(false);
  const [selected, setSelected] = useState<number | null>(null);
  const busy = useRef(false);

  const readFrom = async (path: string, reset: boolean) => {
    if (busy.current) return;
    busy.current = true;
    setStream((s) => ({ events: reset ? [] : s?.events ?? [], next: reset ? null : s?.next ?? null, loading: true, error: null }));
    if (reset) setSelected(null);
    try {
      const answer = await api.events(path);
      const page = Array.isArray(answer.body) ? answer.body : [];
      const next = answer.headers.get("next") ?? (page.length === 0 ? path : null);
      setStream((s) => ({ events: [...(reset ? [] : s?.events ?? []), ...page], next, loading: false, error: null }));
    } catch (error) {
      setStream((s) => ({ events: s?.events ?? [], next: s?.next ?? (reset ? null : path), loading: false, error }));
      setFollow(false);
    } finally {
      busy.current = false;
    }
  };

  // Follow: the live stream (Server-Sent Events over fetch, so the token goes along), from the
  // cursor after the last event shown; reconnects with Last-Event-ID when it ends or breaks; polls
  // the cursor instead when the server answers a plain page.
  const nextRef = useRef<string | null>(null);
  nextRef.current = stream?.next ?? null;
  const [followState, setFollowState] = useState<FollowState | null>(null);
  useEffect(() => {
    if (!follow) return;
    const start = nextRef.current;
    if (!start) return;
    const abort = new AbortController();
    const signal = abort.signal;
    let cursor = start;
    let lastEventId: string | null = null;
    let poll: number | undefined;

    const append = (page: CloudEvent[], next: string | null) => {
      setStream((s) => {
        const events = s?.events ?? [];
        const seen = new Set(events.map((e) => e.id));
        const fresh = page.filter((e) => !seen.has(e.id) && seen.add(e.id));
        return { events: fresh.length ? [...events, ...fresh] : events, next: next ?? s?.next ?? null, loading: false, error: null };
      });
    };
    const refused = (error: unknown) => {
      setStream((s) => ({ events: s?.events ?? [], next: s?.next ?? cursor, loading: false, error }));
      setFollow(false);
    };

    const run = async () => {
      let delay = RECONNECT_MS;
      while (!signal.aborted) {
        setFollowState(lastEventId === null && delay === RECONNECT_MS ? "connecting" : "reconnecting");
        try {
          const after = new URL(cursor, window.location.origin).searchParams.get("after");
          const response = await openStream(cursor, lastEventId ?? after, signal);
          const type = response.headers.get("content-type") ?? "";
          if (!type.toLowerCase().startsWith("text/event-stream")) {
            // No stream here: this is the read's plain page. Take it, then poll the cursor.
            const text = await response.text();
            let page: CloudEvent[] = [];
            try {
              const parsed: unknown = JSON.parse(text);
              if (Array.isArray(parsed)) page = parsed as CloudEvent[];
            } catch {
              // Not a page after all: keep polling from where we are.
            }
            const next = response.headers.get("next") ?? (page.length ? withAfter(cursor, page[page.length - 1].id) : cursor);
            append(page, next);
            if (signal.aborted) return;
            setFollowState("polling");
            poll = window.setInterval(() => {
              if (nextRef.current) void readFrom(nextRef.current, false);
            }, FOLLOW_MS);
            return;
          }
          setFollowState("live");
          delay = RECONNECT_MS;
          const parser = new SseParser((message) => {
            if (message.lastEventId) lastEventId = message.lastEventId;
            let ev: CloudEvent;
            try {
              ev = JSON.parse(message.data) as CloudEvent;
            } catch {
              return;
            }
            if (!ev || typeof ev.id !== "string") return;
            cursor = withAfter(cursor, ev.id);
            append([ev], cursor);
          });
          const reader = response.body?.getReader();
          if (reader) {
            const decoder = new TextDecoder();
            for (;;) {
              const { value, done } = await reader.read();
              if (done) break;
              parser.push(decoder.decode(value, { stream: true }));
            }
            parser.push(decoder.decode());
          }
          parser.end();
          // The stream ended (the token's expiry, a restart): reconnect at once-ish.
        } catch (error) {
          if (signal.aborted) return;
          if (error instanceof ApiError && error.status > 0) {
            refused(error);
            return;
          }
          // A network error: try again after a while, a little longer each time.
          delay = Math.min(delay * 2, RECONNECT_MAX_MS);
        }
        if (signal.aborted) return;
        setFollowState("reconnecting");
        await sleep(delay, signal);
      }
    };
    void run();
    return () => {
      abort.abort();
      if (poll !== undefined) window.clearInterval(poll);
      setFollowState(null);
    };
  }, [follow]);

  const field = (key: string, label: string, description?: string) => (
    <Textfield
      label={label}
      description={description}
      value={q[key] ?? ""}
      onChange={(e) => setQ((v) => ({ ...v, [key]: e.target.value }))}
      name={key}
      autoComplete="off"
    />
  );

  const events = stream?.events ?? [];
  const chosen = selected !== null ? events[selected] : undefined;
  return (
    <>
      <section aria-labelledby="events-heading">
        <Heading level={2} data-size="md" id="events-heading">
          Events
        </Heading>
        <form
          className="grid-form"
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            setFollow(false);
            void readFrom(firstPath(mode, q), true);
          }}
        >
          <Fieldset className="modes">
            <Fieldset.Legend>Read</Fieldset.Legend>
            {(
              [
                ["resource", "A resource's events"],
                ["app", "An app's events (service owner)"],
                ["party", "A party's app events"],
              ] as [Mode, string][]
            ).map(([m, label]) => (
              <Radio key={m} name="mode" value={m} label={label} checked={mode === m} onChange={() => setMode(m)} />
            ))}
          </Fieldset>
          {mode === "resource" ? (
            <>
              {field("resource", "Resource", "ttd-demo or urn:altinn:resource:ttd-demo")}
              {field("subject", "Subject (optional)")}
            </>
          ) : null}
          {mode === "app" ? (
            <>
              {field("org", "Org", "e.g. ttd")}
              {field("app", "App", "e.g. apps-test")}
            </>
          ) : null}
          {mode === "party" ? field("party", "Party id", "e.g. 50001337") : null}
          {field("type", "Type (optional)", "An event type; % and _ are wildcards")}
          <div className="actions">
            <Button type="submit">Read from the start</Button>
          </div>
        </form>
      </section>

      {stream ? (
        <section aria-labelledby="list-heading">
          <div className="section-head">
            <Heading level={3} data-size="xs" id="list-heading">
              {events.length} event{events.length === 1 ? "" : "s"}, oldest first
            </Heading>
            <div className="actions">
              <Button
                variant="secondary"
                data-size="sm"
                disabled={!stream.next || follow}
                loading={stream.loading && !follow}
                onClick={() => stream.next && readFrom(stream.next, false)}
              >
                Load newer events
              </Button>
              <Checkbox
                label="Follow (live)"
                description={follow && followState ? FOLLOW_STATES[followState] : undefined}
                checked={follow}
                disabled={!stream.next}
                onChange={(e) => setFollow(e.target.checked)}
                data-size="sm"
                data-testid="follow"
                data-follow={follow ? followState ?? "" : "off"}
              />
            </div>
          </div>
          {stream.error ? <ErrorMessage error={stream.error} what="Could not read events" /> : null}
          {stream.loading && events.length === 0 ? <Loading label="Reading events…" /> : null}
          {!stream.loading && !stream.error && events.length === 0 ? <Empty>No events yet.</Empty> : null}
          {events.length > 0 ? (
            <ListTable labelledBy="list-heading" testId="events" headers={["Time", "Id", "Type", "Subject", "Source"]}>
                  {events.map((ev, i) => (
                    <Table.Row key={`${ev.id}-${i}`} data-event={ev.id} aria-selected={selected === i}>
                      <Table.Cell>{formatTime(ev.time)}</Table.Cell>
                      <Table.Cell>
                        <Button
                          variant="tertiary"
                          data-size="sm"
                          aria-pressed={selected === i}
                          aria-controls="event-json"
                          onClick={() => setSelected(selected === i ? null : i)}
                        >
                          <span className="mono">{ev.id}</span>
                        </Button>
                      </Table.Cell>
                      <Table.Cell>{ev.type}</Table.Cell>
                      <Table.Cell>{ev.subject ?? "—"}</Table.Cell>
                      <Table.Cell className="mono wrap">{ev.source}</Table.Cell>
                    </Table.Row>
                  ))}
                </ListTable>
          ) : null}
          <div id="event-json" aria-live="polite">
            {chosen ? (
              <>
                <Heading level={3} data-size="2xs">
                  Event {chosen.id}
                </Heading>
                <pre className="json" tabIndex={0} aria-label={`JSON of event ${chosen.id}`}>
                  {JSON.stringify(chosen, null, 2)}
                </pre>
              </>
            ) : events.length > 0 ? (
              <Paragraph data-size="sm">Choose an event's id to see its JSON.</Paragraph>
            ) : null}
          </div>
        </section>
      ) : null}
      <Publish resource={mode === "resource" ? q.resource ?? "" : ""} />
    </>
  );
}

function template(resource: string): string {
  return JSON.stringify(
    {
      specversion: "1.0",
      id: crypto.randomUUID(),
      source: "https://example.com/console",
      type: "console.test",
      resource: resource.trim() ? resourceUrn(resource) : "urn:altinn:resource:ttd-demo",
      subject: "/party/50001337",
      time: new Date().toISOString(),
      data: { hello: "world" },
    },
    null,
    2
  );
}

function Publish({ resource }: { resource: string }) {
  const [body, setBody] = useState(() => template(resource));
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  return (
    <section aria-labelledby="publish-heading" className="form-section">
      <Heading level={2} data-size="sm" id="publish-heading">
        Publish a test event
      </Heading>
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          setBusy(true);
          setError(null);
          setDone(null);
          let id = "";
          try {
            id = String((JSON.parse(body) as { id?: unknown }).id ?? "");
          } catch {
            // The service says what is wrong with it.
          }
          api.publish(body).then(
            () => {
              setBusy(false);
              setDone(`Published${id ? ` event ${id}` : ""}.`);
            },
            (err) => {
              setBusy(false);
              setError(err);
            }
          );
        }}
      >
        <Textfield
          label="CloudEvent (JSON)"
          description="Sent as application/cloudevents+json to POST /events/api/v1/events with your token."
          multiline
          rows={12}
          value={body}
          onChange={(e) => setBody(e.target.value)}
          spellCheck={false}
          className="json-field"
          name="event"
        />
        <div className="actions">
          <Button type="submit" loading={busy}>
            Publish
          </Button>
          <Button type="button" variant="secondary" onClick={() => setBody(template(resource))}>
            New id and time
          </Button>
        </div>
      </form>
      {done ? (
        <Alert data-color="success" role="status" data-testid="publish-result">
          {done}
        </Alert>
      ) : null}
      {error ? <ErrorMessage error={error} what="The service refused the event" /> : null}
    </section>
  );
}
