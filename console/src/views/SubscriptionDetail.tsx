import { useState } from "react";
import { Alert, Button, Checkbox, Heading, Link, Paragraph, Table, Tag, Textfield } from "@digdir/designsystemet-react";
import { api, type Attempt, type AttemptLog, type ReplayRequest, type ReplayResult } from "../api";
import { Empty, ErrorMessage, ListTable, Loading, formatTime, localToIso, useAsync } from "../common";
import { Filters, Health } from "./Subscriptions";

const POLL_MS = 2000;

/** Every page of the attempt log (oldest first), following `next`. */
async function allAttempts(id: number): Promise<Attempt[]> {
  const out: Attempt[] = [];
  let path: string | undefined = api.attemptsPath(id);
  for (let pages = 0; path && pages < 10; pages++) {
    const page: AttemptLog = (await api.attempts(path)).body;
    out.push(...page.attempts);
    path = page.next;
  }
  return out;
}

export function SubscriptionDetail({ id }: { id: number }) {
  const [live, setLive] = useState(true);
  const every = live ? POLL_MS : null;
  const sub = useAsync(() => api.getSubscription(id).then((a) => a.body), [id], every);

  return (
    <>
      <Paragraph data-size="sm">
        <Link href="#/subscriptions">← All subscriptions</Link>
      </Paragraph>
      <section aria-labelledby="sub-heading">
        <div className="section-head">
          <Heading level={2} data-size="md" id="sub-heading">
            Subscription {id}
          </Heading>
          <Checkbox
            label="Refresh every 2 seconds"
            checked={live}
            onChange={(e) => setLive(e.target.checked)}
            data-size="sm"
          />
        </div>
        {sub.value.state === "error" ? <ErrorMessage error={sub.value.error} what="Could not read the subscription" /> : null}
        {sub.value.state === "loading" && !sub.value.data ? <Loading label="Loading the subscription…" /> : null}
        {sub.value.data ? (
          <dl className="facts" data-testid="subscription-facts">
            <div>
              <dt>Endpoint</dt>
              <dd className="mono wrap">{sub.value.data.endPoint}</dd>
            </div>
            <div>
              <dt>Filters</dt>
              <dd>
                <Filters s={sub.value.data} />
              </dd>
            </div>
            <div>
              <dt>Status</dt>
              <dd>
                <Health s={sub.value.data} />
              </dd>
            </div>
            <div>
              <dt>Queued</dt>
              <dd data-testid="queued">{sub.value.data.queued ?? "—"}</dd>
            </div>
            <div>
              <dt>Dead letters</dt>
              <dd data-testid="dead-letter-count">{sub.value.data.deadLetters ?? "—"}</dd>
            </div>
            <div>
              <dt>Last success</dt>
              <dd>{formatTime(sub.value.data.lastSuccessAt)}</dd>
            </div>
            <div>
              <dt>Last failure</dt>
              <dd>{formatTime(sub.value.data.lastFailureAt)}</dd>
            </div>
            <div>
              <dt>Consumer</dt>
              <dd>{sub.value.data.consumer}</dd>
            </div>
            <div>
              <dt>Created</dt>
              <dd>{formatTime(sub.value.data.created)}</dd>
            </div>
          </dl>
        ) : null}
        {sub.value.data?.status === "disabled" ? (
          <Enable id={id} onEnabled={sub.reload} />
        ) : null}
      </section>
      <Attempts id={id} every={every} />
      <DeadLetters id={id} every={every} onRedelivered={sub.reload} />
      <Replay id={id} />
      <Secret id={id} />
    </>
  );
}

function Enable({ id, onEnabled }: { id: number; onEnabled: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  return (
    <Alert data-color="warning">
      <Paragraph>
        Delivery is paused: the endpoint failed every attempt for too long. Events keep queueing; enable the
        subscription once the endpoint works again.
      </Paragraph>
      <Button
        loading={busy}
        onClick={() => {
          setBusy(true);
          setError(null);
          api.enable(id).then(
            () => {
              setBusy(false);
              onEnabled();
            },
            (e) => {
              setBusy(false);
              setError(e);
            }
          );
        }}
      >
        Enable delivery
      </Button>
      {error ? <ErrorMessage error={error} what="Enable" /> : null}
    </Alert>
  );
}

function outcomeColor(outcome: string) {
  return outcome === "success" ? "success" : outcome === "http_error" ? "danger" : "warning";
}

function Attempts({ id, every }: { id: number; every: number | null }) {
  const log = useAsync(() => allAttempts(id), [id], every);
  const attempts = [...(log.value.data ?? [])].reverse();
  return (
    <section aria-labelledby="attempts-heading">
      <div className="section-head">
        <Heading level={2} data-size="sm" id="attempts-heading">
          Attempt log
        </Heading>
        <Button variant="secondary" data-size="sm" onClick={log.reload}>
          Refresh attempts
        </Button>
      </div>
      <Paragraph data-size="sm">Newest first: every delivery attempt and what the endpoint answered.</Paragraph>
      {log.value.state === "error" ? <ErrorMessage error={log.value.error} what="Could not read the attempt log" /> : null}
      {log.value.state === "loading" && !log.value.data ? <Loading label="Loading attempts…" /> : null}
      {log.value.data && attempts.length === 0 ? <Empty>No delivery attempts yet.</Empty> : null}
      {attempts.length > 0 ? (
        <ListTable labelledBy="attempts-heading" testId="attempts" headers={["Time", "Event", "Attempt", "Outcome", "Status", "Latency", "Response", "Next attempt"]}>
              {attempts.map((a, i) => (
                <Table.Row key={`${a.eventId}-${a.attempt}-${i}`} data-event={a.eventId} data-outcome={a.outcome}>
                  <Table.Cell>{formatTime(a.time)}</Table.Cell>
                  <Table.Cell className="mono wrap">{a.eventId}</Table.Cell>
                  <Table.Cell className="num">{a.attempt}</Table.Cell>
                  <Table.Cell>
                    <Tag data-color={outcomeColor(a.outcome)} data-size="sm">
                      {a.outcome}
                    </Tag>
                    {a.note ? <Paragraph data-size="xs">{a.note}</Paragraph> : null}
                  </Table.Cell>
                  <Table.Cell className="num">{a.statusCode ?? "—"}</Table.Cell>
                  <Table.Cell className="num">{a.latencyMs} ms</Table.Cell>
                  <Table.Cell className="mono wrap snippet">{a.response ? a.response.slice(0, 300) : "—"}</Table.Cell>
                  <Table.Cell>{formatTime(a.nextAttemptAt)}</Table.Cell>
                </Table.Row>
              ))}
            </ListTable>
      ) : null}
    </section>
  );
}

function DeadLetters({ id, every, onRedelivered }: { id: number; every: number | null; onRedelivered: () => void }) {
  const list = useAsync(() => api.deadLetters(id).then((a) => a.body), [id], every);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const letters = list.value.data?.deadLetters ?? [];
  return (
    <section aria-labelledby="dead-heading">
      <div className="section-head">
        <Heading level={2} data-size="sm" id="dead-heading">
          Dead letters
        </Heading>
        <Button
          data-size="sm"
          disabled={letters.length === 0}
          loading={busy}
          onClick={() => {
            setBusy(true);
            setError(null);
            setResult(null);
            api.redeliver(id).then(
              (a) => {
                setBusy(false);
                setResult(`${a.body.redelivered} redelivered: back at the end of the queue, with fresh attempts.`);
                list.reload();
                onRedelivered();
              },
              (e) => {
                setBusy(false);
                setError(e);
              }
            );
          }}
        >
          Redeliver dead letters
        </Button>
      </div>
      {result ? (
        <Alert data-color="success" role="status" data-testid="redeliver-result">
          {result}
        </Alert>
      ) : null}
      {error ? <ErrorMessage error={error} what="Redeliver" /> : null}
      {list.value.state === "error" ? <ErrorMessage error={list.value.error} what="Could not read the dead letters" /> : null}
      {list.value.state === "loading" && !list.value.data ? <Loading label="Loading dead letters…" /> : null}
      {list.value.data && letters.length === 0 ? <Empty>No dead letters.</Empty> : null}
      {letters.length > 0 ? (
        <ListTable labelledBy="dead-heading" testId="dead-letters" headers={["Event", "Type", "Attempts", "Queued", "Failed", "Last answer"]}>
              {letters.map((d, i) => (
                <Table.Row key={`${d.event.id}-${i}`} data-event={d.event.id}>
                  <Table.Cell className="mono wrap">{d.event.id}</Table.Cell>
                  <Table.Cell>{d.event.type}</Table.Cell>
                  <Table.Cell className="num">{d.attempts}</Table.Cell>
                  <Table.Cell>{formatTime(d.enqueued)}</Table.Cell>
                  <Table.Cell>{formatTime(d.failed)}</Table.Cell>
                  <Table.Cell>{d.lastStatusCode ?? d.lastError ?? "—"}</Table.Cell>
                </Table.Row>
              ))}
            </ListTable>
      ) : null}
    </section>
  );
}

function Replay({ id }: { id: number }) {
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const [after, setAfter] = useState("");
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ body: ReplayRequest; answer: ReplayResult } | null>(null);
  const [total, setTotal] = useState(0);
  const [error, setError] = useState<unknown>(null);

  const send = (body: ReplayRequest, carried: number) => {
    setBusy(true);
    setError(null);
    api.replay(id, body).then(
      (a) => {
        setBusy(false);
        setResult({ body, answer: a.body });
        setTotal(carried + a.body.requeued);
      },
      (e) => {
        setBusy(false);
        setError(e);
      }
    );
  };

  return (
    <section aria-labelledby="replay-heading" className="form-section">
      <Heading level={2} data-size="sm" id="replay-heading">
        Replay
      </Heading>
      <Paragraph data-size="sm">
        Queue the stored events of the subscription's resource again, from a time window (storage time, both
        ends included; the end defaults to now) or after an event id. Times are your local time.
      </Paragraph>
      <form
        className="grid-form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          const body: ReplayRequest = {};
          const f = localToIso(from);
          const t = localToIso(to);
          if (f) body.from = f;
          if (t) body.to = t;
          if (after.trim()) body.after = after.trim();
          send(body, 0);
        }}
      >
        <Textfield label="From" type="datetime-local" step={1} value={from} onChange={(e) => setFrom(e.target.value)} />
        <Textfield label="To (optional)" type="datetime-local" step={1} value={to} onChange={(e) => setTo(e.target.value)} />
        <Textfield
          label="Or after event id"
          description="Instead of From: start after this stored event."
          value={after}
          onChange={(e) => setAfter(e.target.value)}
          autoComplete="off"
        />
        <div className="actions">
          <Button type="submit" variant="secondary" loading={busy}>
            Replay
          </Button>
        </div>
      </form>
      {error ? <ErrorMessage error={error} what="Replay" /> : null}
      {result ? (
        <Alert data-color="success" role="status" data-testid="replay-result">
          <Paragraph>
            {total} event{total === 1 ? "" : "s"} queued again.
            {result.answer.cursor ? " The window holds more than one call looks at." : ""}
          </Paragraph>
          {result.answer.cursor ? (
            <Button
              data-size="sm"
              variant="secondary"
              loading={busy}
              onClick={() => send({ ...result.body, cursor: result.answer.cursor }, total)}
            >
              Continue the replay
            </Button>
          ) : null}
        </Alert>
      ) : null}
    </section>
  );
}

function Secret({ id }: { id: number }) {
  const [secret, setSecret] = useState<{ value: string; rotated: boolean } | null>(null);
  const [busy, setBusy] = useState<"show" | "rotate" | null>(null);
  const [confirm, setConfirm] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const run = (kind: "show" | "rotate") => {
    setBusy(kind);
    setError(null);
    setConfirm(false);
    (kind === "show" ? api.secret(id) : api.rotateSecret(id)).then(
      (a) => {
        setBusy(null);
        setSecret({ value: a.body.secret, rotated: kind === "rotate" });
      },
      (e) => {
        setBusy(null);
        setError(e);
      }
    );
  };

  return (
    <section aria-labelledby="secret-heading" className="form-section">
      <Heading level={2} data-size="sm" id="secret-heading">
        Signing secret
      </Heading>
      <Paragraph data-size="sm">
        Deliveries carry Standard Webhooks signatures made with this secret. Rotating makes a new one; the
        previous one keeps signing too for 24 hours.
      </Paragraph>
      <div className="actions">
        <Button variant="secondary" data-size="sm" loading={busy === "show"} onClick={() => run("show")}>
          Show the secret
        </Button>
        {confirm ? (
          <>
            <Button data-color="danger" data-size="sm" loading={busy === "rotate"} onClick={() => run("rotate")}>
              Confirm rotation
            </Button>
            <Button variant="tertiary" data-size="sm" onClick={() => setConfirm(false)}>
              Cancel
            </Button>
          </>
        ) : (
          <Button variant="secondary" data-size="sm" onClick={() => setConfirm(true)}>
            Rotate the secret
          </Button>
        )}
      </div>
      {error ? <ErrorMessage error={error} what="Signing secret" /> : null}
      {secret ? (
        <Alert data-color={secret.rotated ? "success" : "info"} className="one-time">
          <Paragraph>
            {secret.rotated ? "The new secret (shown once; copy it now): " : "The current secret: "}
            <code data-testid="secret">{secret.value}</code>
          </Paragraph>
          <Button variant="tertiary" data-size="sm" onClick={() => setSecret(null)}>
            Hide the secret
          </Button>
        </Alert>
      ) : null}
    </section>
  );
}
