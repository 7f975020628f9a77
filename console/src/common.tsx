// Shared pieces: loading, empty and failure states, the API's error text, dates.
import { useCallback, useEffect, useRef, useState } from "react";
import { Alert, Paragraph, Spinner, Table } from "@digdir/designsystemet-react";
import { ApiError } from "./api";

export function ErrorMessage({ error, what }: { error: unknown; what?: string }) {
  const api = error instanceof ApiError ? error : null;
  const text = api ? api.text : String((error as Error)?.message ?? error);
  return (
    <Alert data-color="danger" role="alert" className="api-error">
      <Paragraph>
        {what ? `${what}: ` : ""}
        {api && api.status > 0 ? <span className="status">{api.status} </span> : null}
        <span className="api-text">{text}</span>
      </Paragraph>
      {api && api.fields.length > 0 ? (
        <ul className="api-fields">
          {api.fields.map(([field, message], i) => (
            <li key={i}>
              {field ? <code>{field}</code> : null}
              {field ? ": " : ""}
              {message}
            </li>
          ))}
        </ul>
      ) : null}
    </Alert>
  );
}

export function Loading({ label }: { label: string }) {
  return (
    <div className="loading" role="status">
      <Spinner aria-hidden="true" data-size="sm" />
      <span>{label}</span>
    </div>
  );
}

export function Empty({ children }: { children: React.ReactNode }) {
  return (
    <Paragraph className="empty" role="status">
      {children}
    </Paragraph>
  );
}

export type Async<T> =
  | { state: "loading"; data?: T }
  | { state: "ok"; data: T }
  | { state: "error"; error: unknown; data?: T };

/** Runs `load` now, whenever `deps` change, on `reload()`, and every `everyMs` while set. */
/** A list as a table: the design system's zebra table, in a wrapper that scrolls sideways on a
 * narrow screen, with these column headers; the rows are the children. */
export function ListTable({
  labelledBy,
  testId,
  headers,
  children,
}: {
  labelledBy: string;
  testId: string;
  headers: string[];
  children: React.ReactNode;
}) {
  return (
    <div className="table-wrap">
      <Table zebra border data-size="sm" aria-labelledby={labelledBy} data-testid={testId}>
        <Table.Head>
          <Table.Row>
            {headers.map((h) => (
              <Table.HeaderCell key={h}>{h}</Table.HeaderCell>
            ))}
          </Table.Row>
        </Table.Head>
        <Table.Body>{children}</Table.Body>
      </Table>
    </div>
  );
}

export function useAsync<T>(load: () => Promise<T>, deps: unknown[], everyMs?: number | null) {
  const [value, setValue] = useState<Async<T>>({ state: "loading" });
  const generation = useRef(0);
  const run = useCallback(
    (quiet: boolean) => {
      const mine = ++generation.current;
      if (!quiet) setValue((v) => ({ state: "loading", data: v.data }));
      load().then(
        (data) => mine === generation.current && setValue({ state: "ok", data }),
        (error) => mine === generation.current && setValue((v) => ({ state: "error", error, data: v.data }))
      );
    },
    deps
  );
  useEffect(() => {
    setValue({ state: "loading" });
    run(true);
  }, [run]);
  useEffect(() => {
    if (!everyMs) return;
    const timer = window.setInterval(() => run(true), everyMs);
    return () => window.clearInterval(timer);
  }, [run, everyMs]);
  return { value, reload: () => run(false) };
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z").replace(/Z$/, " UTC");
}

/** A `datetime-local` value (local time) as an RFC 3339 instant, or undefined when empty. */
export function localToIso(value: string): string | undefined {
  if (!value) return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}
