//! The `Delivery` object's trace log and dead letters, as the API reads them (rows by column
//! name; a row that does not decode is an error).

use serde::Deserialize;

use super::super::now_ms;
use super::wire::{DeadLetter, TraceRow};
use super::{corrupt, iso, Delivery};
use crate::error::Error;

impl Delivery {
    pub(super) fn trace(&self, row: &TraceRow) -> Result<(), Error> {
        self.exec(
            "INSERT INTO trace (time, activity, event_id, resource, event_type, consumer, endpoint, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                now_ms().into(),
                row.activity.clone().into(),
                row.cloud_event_id.clone().into(),
                row.resource.clone().into(),
                row.event_type.clone().into(),
                row.consumer.clone().into(),
                row.endpoint.clone().into(),
                row.status_code.into(),
            ],
        )
    }

    pub(super) fn trace_rows(&self) -> Result<Vec<TraceRow>, Error> {
        #[derive(Deserialize)]
        struct Stored {
            time: i64,
            activity: String,
            event_id: Option<String>,
            resource: Option<String>,
            event_type: Option<String>,
            consumer: Option<String>,
            endpoint: Option<String>,
            status: Option<i64>,
        }
        let sub_id = self.with_queue(|q| q.subscription().map(|s| s.id))?;
        let rows: Vec<Stored> = self.rows(
            "SELECT time, activity, event_id, resource, event_type, consumer, endpoint, status FROM trace ORDER BY seq",
            vec![],
        )?;
        Ok(rows
            .into_iter()
            .map(|r| TraceRow {
                time: iso(r.time),
                activity: r.activity,
                cloud_event_id: r.event_id,
                resource: r.resource,
                event_type: r.event_type,
                consumer: r.consumer,
                endpoint: r.endpoint,
                subscription_id: sub_id,
                status_code: r.status,
            })
            .collect())
    }

    pub(super) fn dead_letters(&self) -> Result<Vec<DeadLetter>, Error> {
        #[derive(Deserialize)]
        struct Stored {
            seq: i64,
            event_json: String,
            attempts: i64,
            enqueued: i64,
            failed: i64,
            last_status: Option<i64>,
            last_error: Option<String>,
        }
        let rows: Vec<Stored> = self.rows(
            "SELECT seq, event_json, attempts, enqueued, failed, last_status, last_error FROM dead_letters ORDER BY seq",
            vec![],
        )?;
        rows.into_iter()
            .map(|r| {
                Ok(DeadLetter {
                    event: serde_json::from_str(&r.event_json)
                        .map_err(|e| corrupt(format!("dead letter {}: {e}", r.seq)))?,
                    attempts: r.attempts,
                    enqueued: iso(r.enqueued),
                    failed: iso(r.failed),
                    last_status_code: r.last_status,
                    last_error: r.last_error,
                })
            })
            .collect()
    }
}
