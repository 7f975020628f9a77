import { useState } from "react";
import {
  Alert,
  Button,
  Checkbox,
  Heading,
  Link,
  Paragraph,
  Table,
  Tag,
  Textfield,
} from "@digdir/designsystemet-react";
import { api, type CreatedSubscription, type Subscription, type SubscriptionRequest } from "../api";
import { Empty, ErrorMessage, ListTable, Loading, formatTime, useAsync } from "../common";

export function Health({ s }: { s: Subscription }) {
  const disabled = s.status === "disabled";
  return (
    <div className="health">
      <Tag data-color={disabled ? "danger" : "success"} data-size="sm">
        {s.status ?? "unknown"}
      </Tag>{" "}
      <Tag data-color={s.validated ? "info" : "warning"} data-size="sm">
        {s.validated ? "validated" : "not validated"}
      </Tag>
      {s.failingSince ? (
        <Paragraph data-size="xs">failing since {formatTime(s.failingSince)}</Paragraph>
      ) : null}
    </div>
  );
}

export function Filters({ s }: { s: Subscription }) {
  const rows: [string, string | undefined][] = [
    ["resource", s.resourceFilter],
    ["subject", s.subjectFilter],
    ["type", s.typeFilter],
    ["source", s.sourceFilter],
  ];
  return (
    <dl className="filters">
      {rows
        .filter(([, v]) => v)
        .map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
      {s.includeSubunits ? (
        <div>
          <dt>subunits</dt>
          <dd>included</dd>
        </div>
      ) : null}
    </dl>
  );
}

function DeleteButton({ s, onDeleted }: { s: Subscription; onDeleted: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  if (!confirming) {
    return (
      <Button variant="secondary" data-color="danger" data-size="sm" onClick={() => setConfirming(true)}>
        Delete<span className="sr-only"> subscription {s.id}</span>
      </Button>
    );
  }
  return (
    <div className="confirm">
      <Button
        data-color="danger"
        data-size="sm"
        loading={busy}
        onClick={() => {
          setBusy(true);
          api.deleteSubscription(s.id).then(onDeleted, (e) => {
            setBusy(false);
            setError(e);
          });
        }}
      >
        Confirm delete of {s.id}
      </Button>
      <Button variant="tertiary" data-size="sm" onClick={() => setConfirming(false)}>
        Cancel
      </Button>
      {error ? <ErrorMessage error={error} what="Delete" /> : null}
    </div>
  );
}

export function Subscriptions() {
  const list = useAsync(() => api.listSubscriptions().then((a) => a.body), [], 5000);
  const [created, setCreated] = useState<CreatedSubscription | null>(null);

  const items = list.value.data?.subscriptions ?? [];
  return (
    <>
      <section aria-labelledby="subs-heading">
        <div className="section-head">
          <Heading level={2} data-size="md" id="subs-heading">
            Subscriptions
          </Heading>
          <Button variant="secondary" data-size="sm" onClick={list.reload}>
            Refresh
          </Button>
        </div>
        {list.value.state === "error" ? (
          <ErrorMessage error={list.value.error} what="Could not list your subscriptions" />
        ) : null}
        {list.value.state === "loading" && !list.value.data ? <Loading label="Loading subscriptions…" /> : null}
        {list.value.data && items.length === 0 ? (
          <Empty>You have no subscriptions yet. Create one below.</Empty>
        ) : null}
        {items.length > 0 ? (
          <ListTable labelledBy="subs-heading" testId="subscriptions" headers={["Id", "Endpoint", "Filters", "Status", "Queued", "Dead letters", "Last success", "Actions"]}>
                {items.map((s) => (
                  <Table.Row key={s.id} data-subscription={s.id}>
                    <Table.Cell>
                      <Link href={`#/subscriptions/${s.id}`} aria-label={`Subscription ${s.id}`}>
                        {s.id}
                      </Link>
                    </Table.Cell>
                    <Table.Cell className="mono wrap">{s.endPoint}</Table.Cell>
                    <Table.Cell>
                      <Filters s={s} />
                    </Table.Cell>
                    <Table.Cell>
                      <Health s={s} />
                    </Table.Cell>
                    <Table.Cell className="num">{s.queued ?? "—"}</Table.Cell>
                    <Table.Cell className="num">{s.deadLetters ?? "—"}</Table.Cell>
                    <Table.Cell>{formatTime(s.lastSuccessAt)}</Table.Cell>
                    <Table.Cell>
                      <DeleteButton s={s} onDeleted={list.reload} />
                    </Table.Cell>
                  </Table.Row>
                ))}
              </ListTable>
        ) : null}
      </section>
      <CreateForm
        onCreated={(s) => {
          setCreated(s);
          list.reload();
        }}
      />
      {created ? (
        <Alert data-color="success" className="one-time" role="status">
          <Heading level={3} data-size="2xs">
            Subscription {created.id} created
          </Heading>
          <Paragraph>
            Its signing secret, shown once here (later from the subscription's page):{" "}
            <code data-testid="created-secret">{created.secret}</code>
          </Paragraph>
          <Button variant="tertiary" data-size="sm" onClick={() => setCreated(null)}>
            Hide the secret
          </Button>
        </Alert>
      ) : null}
    </>
  );
}

const FIELDS: [keyof SubscriptionRequest, string, string][] = [
  ["endPoint", "Endpoint", "The https:// URL that receives the events."],
  ["resourceFilter", "Resource filter", "e.g. urn:altinn:resource:ttd-demo"],
  ["subjectFilter", "Subject filter", "Optional, e.g. /party/50001337"],
  ["typeFilter", "Type filter", "Optional, an event type"],
  ["sourceFilter", "Source filter", "Optional, an https:// source the events' source starts with"],
  ["alternativeSubjectFilter", "Alternative subject filter", "Optional, e.g. /person/01017512345"],
];

function CreateForm({ onCreated }: { onCreated: (s: CreatedSubscription) => void }) {
  const [values, setValues] = useState<Record<string, string>>({});
  const [subunits, setSubunits] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    const body: Record<string, unknown> = {};
    for (const [key] of FIELDS) {
      const v = (values[key] ?? "").trim();
      if (v) body[key] = v;
    }
    if (subunits) body.includeSubunits = true;
    setBusy(true);
    setError(null);
    api.createSubscription(body as SubscriptionRequest).then(
      (a) => {
        setBusy(false);
        setValues({});
        setSubunits(false);
        onCreated(a.body);
      },
      (err) => {
        setBusy(false);
        setError(err);
      }
    );
  };

  return (
    <section aria-labelledby="create-heading" className="form-section">
      <Heading level={2} data-size="sm" id="create-heading">
        New subscription
      </Heading>
      <form onSubmit={submit} noValidate className="grid-form">
        {FIELDS.map(([key, label, description]) => (
          <Textfield
            key={key}
            label={label}
            description={description}
            value={values[key] ?? ""}
            onChange={(e) => setValues((v) => ({ ...v, [key]: e.target.value }))}
            name={key}
            autoComplete="off"
          />
        ))}
        <Checkbox
          label="Include subunits (events about a main unit's subunits too)"
          checked={subunits}
          onChange={(e) => setSubunits(e.target.checked)}
        />
        <div className="actions">
          <Button type="submit" loading={busy}>
            Create subscription
          </Button>
        </div>
      </form>
      {error ? <ErrorMessage error={error} what="The service refused the subscription" /> : null}
    </section>
  );
}
