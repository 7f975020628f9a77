//! The `Delivery` object's requests (from the routes, the event log and the directory): each
//! is one input to the queue, or a read of its rows.

use events_core::delivery_queue::{AttemptQuery, Gone, QueuedEvent};
use serde::{Deserialize, Serialize};
use worker::{Method, Request, Response};

use super::control::HealthView;
use super::wire::{EnqueueReply, EnqueueRequest, InitRequest, SecretReply, TraceRow};
use super::{gone, now, Delivery};
use crate::error::Error;
use crate::objects::{body_json, reply_json};

/// Which page of the attempt log (route → object).
#[derive(Debug, Serialize, Deserialize)]
pub struct AttemptQueryBody {
    pub after: i64,
    pub size: u32,
}

impl Delivery {
    pub(super) async fn handle(&self, req: &mut Request) -> Result<Response, Error> {
        let at = now();
        match (req.method(), req.path().as_str()) {
            (Method::Post, "/init") => {
                let r: InitRequest = body_json(req).await?;
                let secret = self
                    .drive(|q| {
                        q.handle_subscribed(at, r.subscription, r.validation);
                        q.handle_secret_offered(r.secret)
                    })
                    .await?
                    .map_err(gone)?;
                reply_json(&SecretReply { secret })
            }
            (Method::Post, "/secret") => {
                // The secret in force; the one offered becomes it only where there is none.
                let r: SecretReply = body_json(req).await?;
                let secret = self
                    .drive(|q| q.handle_secret_offered(r.secret))
                    .await?
                    .map_err(gone)?;
                reply_json(&SecretReply { secret })
            }
            (Method::Post, "/rotate") => {
                let r: SecretReply = body_json(req).await?;
                let secret = self
                    .drive(|q| q.handle_rotate(at, r.secret))
                    .await?
                    .map_err(gone)?;
                reply_json(&SecretReply { secret })
            }
            (Method::Post, "/attempts") => {
                let q: AttemptQueryBody = body_json(req).await?;
                let query = AttemptQuery {
                    after: q.after,
                    size: q.size,
                };
                reply_json(&self.attempt_page(query)?)
            }
            (Method::Get, "/health") => {
                let view = self.with_queue(|q| {
                    q.is_live().then(|| {
                        HealthView::new(q.health(), q.pending_len(), q.dead_letter_count())
                    })
                })?;
                reply_json(&view.ok_or(Error::Gone)?)
            }
            (Method::Post, "/enable") => {
                let resumed = self.drive(|q| q.handle_enable(at)).await?.map_err(gone)?;
                reply_json(&serde_json::json!({"enabled": true, "resumed": resumed}))
            }
            (Method::Post, "/enqueue") => {
                // All of them in one write.
                let r: EnqueueRequest = body_json(req).await?;
                let queued = self
                    .drive(|q| {
                        let mut queued = 0;
                        for e in r.events {
                            let event = QueuedEvent {
                                event_json: e.event_json,
                                event_id: e.event_id,
                                event_type: e.event_type,
                                resource: e.resource,
                            };
                            queued += usize::from(q.handle_enqueue(at, e.origin, event)?);
                        }
                        Ok(queued)
                    })
                    .await?
                    .map_err(gone)?;
                reply_json(&EnqueueReply { queued })
            }
            (Method::Post, "/stop") => {
                self.drive(|q| q.handle_deleted(at)).await?;
                reply_json(&serde_json::json!({"stopped": true}))
            }
            (Method::Post, "/validated") => {
                // This object owns `validated`: record it, then copy it to the event log and
                // the directory (idempotent, so a retried PUT finishes a failed copy).
                if !self.drive(|q| q.handle_validated(at)).await? {
                    return Err(gone(Gone));
                }
                self.record_validation().await?;
                reply_json(&serde_json::json!({"validated": true}))
            }
            (Method::Get, "/deadletters") => reply_json(&self.dead_letters()?),
            (Method::Post, "/redeliver") => {
                let n = self
                    .drive(|q| q.handle_redeliver(at))
                    .await?
                    .map_err(gone)?;
                reply_json(&serde_json::json!({"redelivered": n}))
            }
            (Method::Get, "/trace") => reply_json(&self.trace_rows()?),
            (Method::Post, "/trace") => {
                let row: TraceRow = body_json(req).await?;
                self.trace(&row)?;
                reply_json(&serde_json::json!({"logged": true}))
            }
            _ => Err(Error::NotFound),
        }
    }
}
