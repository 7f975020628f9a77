//! The `EventLog`'s replay: stored events of a window go to one subscription again, through
//! core's [`Outbox`](events_core::outbox::Outbox) (so authorization is checked again and the
//! hand-off survives a restart once the call has answered).

use events_core::event::{EventId, EventMeta, EventRecord};
use events_core::replay::{next_cursor, no_such_event, ReplayRequest, ScanStart, REPLAY_LIMIT};
use events_core::subscription::SubscriptionId;
use events_core::urn::ResourceUrn;
use serde::{Deserialize, Serialize};

use super::{now, EventLog};
use crate::error::Error;

/// A replay for one subscription (route → object).
#[derive(Debug, Serialize, Deserialize)]
pub struct ReplayCall {
    pub subscription: SubscriptionId,
    /// The log's resource (the subscription's `resourceFilter`).
    pub resource: ResourceUrn,
    pub request: ReplayRequest,
}

/// How a replay went (object → route).
#[derive(Debug, Serialize, Deserialize)]
pub struct ReplayReply {
    pub requeued: u32,
    /// Where to go on when the window holds more than one call looks at.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

#[derive(Deserialize)]
struct Row {
    seq: i64,
    id: EventId,
    source: String,
    subject: Option<String>,
    alt_subject: Option<String>,
    #[serde(rename = "type")]
    type_: String,
    resource_instance: Option<String>,
    time_ticks: Option<i64>,
    json: String,
    json_utc: Option<String>,
}

impl EventLog {
    pub(super) async fn replay(&self, call: ReplayCall) -> Result<ReplayReply, Error> {
        #[derive(Deserialize)]
        struct Position {
            seq: Option<i64>,
        }
        let scan = call.request.scan(now());
        let after_seq = match scan.start {
            ScanStart::After(seq) => seq,
            ScanStart::AfterEvent(id) => {
                let found: Vec<Position> = self.rows(
                    "SELECT MIN(seq) AS seq FROM events WHERE id = ?",
                    vec![id.into()],
                )?;
                found
                    .into_iter()
                    .next()
                    .and_then(|p| p.seq)
                    .ok_or_else(|| no_such_event(call.resource.as_str(), id))?
            }
        };
        let rows: Vec<Row> = self.rows(
            "SELECT seq, id, source, subject, alt_subject, type, resource_instance, time_ticks, json, json_utc
             FROM events WHERE seq > ? AND registered >= ? AND registered <= ? ORDER BY seq LIMIT ?",
            vec![after_seq.into(), scan.from.into(), scan.to.into(), i64::from(REPLAY_LIMIT).into()],
        )?;
        let cursor = next_cursor(rows.len(), rows.last().map(|r| r.seq));
        let mut requeued = 0;
        for row in rows {
            let record = EventRecord {
                meta: EventMeta {
                    id: row.id,
                    source: row.source,
                    subject: row.subject,
                    alternative_subject: row.alt_subject,
                    type_: row.type_,
                    resource: call.resource.clone(),
                    resource_instance: row.resource_instance,
                    time_ticks: row.time_ticks,
                },
                json: row.json,
                json_utc: row.json_utc,
            };
            let search = self.drive(|o| o.main_unit_search(&record.meta)).await?;
            let main_unit = match search {
                Some(search) => self.main_unit(search).await?,
                None => None,
            };
            let sub = call.subscription;
            if self
                .drive(|o| o.handle_replay(now(), sub, &record, main_unit.as_deref()))
                .await?
            {
                requeued += 1;
            }
        }
        Ok(ReplayReply { requeued, cursor })
    }
}
