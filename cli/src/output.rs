//! Printing results: one JSON value per line, or a table for lists with `--pretty`.

use std::io::Write as _;

use serde_json::Value;

use crate::error::{Error, Result};

/// A table column: its heading and the JSON pointer of its value in each row.
pub type Column = (&'static str, &'static str);

pub const EVENT_COLUMNS: &[Column] = &[
    ("ID", "/id"),
    ("TIME", "/time"),
    ("TYPE", "/type"),
    ("SUBJECT", "/subject"),
    ("SOURCE", "/source"),
];
pub const SUBSCRIPTION_COLUMNS: &[Column] = &[
    ("ID", "/id"),
    ("ENDPOINT", "/endPoint"),
    ("RESOURCE", "/resourceFilter"),
    ("SUBJECT", "/subjectFilter"),
    ("TYPE", "/typeFilter"),
    ("VALIDATED", "/validated"),
];
pub const ATTEMPT_COLUMNS: &[Column] = &[
    ("EVENT", "/eventId"),
    ("ATTEMPT", "/attempt"),
    ("TIME", "/time"),
    ("OUTCOME", "/outcome"),
    ("STATUS", "/statusCode"),
    ("LATENCY_MS", "/latencyMs"),
    ("NEXT_ATTEMPT", "/nextAttemptAt"),
    ("NOTE", "/note"),
];
pub const DEAD_LETTER_COLUMNS: &[Column] = &[
    ("EVENT", "/event/id"),
    ("TYPE", "/event/type"),
    ("ATTEMPTS", "/attempts"),
    ("FAILED", "/failed"),
    ("STATUS", "/lastStatusCode"),
    ("ERROR", "/lastError"),
];

#[derive(Debug, Clone, Copy)]
pub struct Printer {
    pub pretty: bool,
}

impl Printer {
    /// One JSON value on one line.
    pub fn value(&self, value: &Value) -> Result<()> {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{value}")
            .and_then(|_| out.flush())
            .map_err(|err| Error::io("cannot write to stdout", err))
    }

    /// A list: one value per line, or a table with `--pretty`.
    pub fn list(&self, rows: &[Value], columns: &[Column]) -> Result<()> {
        if self.pretty {
            let text = table(rows, columns);
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|_| out.flush())
                .map_err(|err| Error::io("cannot write to stdout", err))
        } else {
            rows.iter().try_for_each(|row| self.value(row))
        }
    }
}

fn cell(row: &Value, pointer: &str) -> String {
    match row.pointer(pointer) {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    }
}

/// A plain-text table with a heading row; columns are as wide as their widest cell.
pub fn table(rows: &[Value], columns: &[Column]) -> String {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            columns
                .iter()
                .map(|(_, pointer)| cell(row, pointer))
                .collect()
        })
        .collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, (heading, _))| {
            cells
                .iter()
                .map(|row| row[i].chars().count())
                .chain(std::iter::once(heading.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |values: Vec<&str>| {
        let mut text = values
            .iter()
            .zip(&widths)
            .map(|(value, width)| format!("{value:<width$}"))
            .collect::<Vec<_>>()
            .join("  ");
        text.truncate(text.trim_end().len());
        text.push('\n');
        text
    };
    let mut out = line(columns.iter().map(|(heading, _)| *heading).collect());
    for row in &cells {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn table_aligns_columns() {
        let rows = [
            json!({"id": 1, "endPoint": "https://a.example/hook", "validated": true}),
            json!({"id": 22, "endPoint": "https://b", "resourceFilter": "urn:altinn:resource:x", "validated": false}),
        ];
        let text = table(&rows, SUBSCRIPTION_COLUMNS);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(
            lines[0].starts_with("ID  ENDPOINT                RESOURCE"),
            "{text}"
        );
        assert!(lines[1].starts_with("1   https://a.example/hook"), "{text}");
        assert!(
            lines[2].contains("urn:altinn:resource:x") && lines[2].ends_with("false"),
            "{text}"
        );
    }
}
