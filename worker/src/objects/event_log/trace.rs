//! The `EventLog`'s part of the trace log (spec §14): rows the outbox's changes wrote, read
//! back for `GET /storage/events/logs?resource=…`.

use events_core::matching::SubscriptionId;
use events_core::time::UnixTime;
use events_core::urn::ResourceUrn;
use serde::Deserialize;

use super::EventLog;
use crate::error::Error;
use crate::objects::delivery::TraceRow;

impl EventLog {
    pub(super) fn trace_rows(
        &self,
        resource: Option<&ResourceUrn>,
    ) -> Result<Vec<TraceRow>, Error> {
        #[derive(Deserialize)]
        struct Row {
            time: i64,
            activity: String,
            event_id: Option<String>,
            event_type: Option<String>,
            consumer: Option<String>,
            endpoint: Option<String>,
            subscription_id: Option<SubscriptionId>,
        }
        let rows: Vec<Row> = self.rows(
            "SELECT time, activity, event_id, event_type, consumer, endpoint, subscription_id FROM trace ORDER BY seq",
            vec![],
        )?;
        Ok(rows
            .into_iter()
            .map(|r| TraceRow {
                time: UnixTime::from_millis(r.time).to_timestamp().format(),
                activity: r.activity,
                cloud_event_id: r.event_id,
                resource: resource.map(ResourceUrn::to_string),
                event_type: r.event_type,
                consumer: r.consumer,
                endpoint: r.endpoint,
                subscription_id: r.subscription_id,
                status_code: None,
            })
            .collect())
    }
}
