//! The `EventLog`'s fan-out: the driver of core's [`Outbox`]. It feeds the outbox its inputs,
//! has the changes it asks for written ([`super::store`]), sets its alarm, and makes its calls
//! (the PDP, the delivery and party objects) in the alarm run, reporting each back.

use events_core::authz::builtin::PartyKey;
use events_core::authz::xacml::DecisionResponse;
use events_core::event::{EventMeta, PartyId};
use events_core::matching::SubscriptionId;
use events_core::outbox::{Action, Change, HandOff, Handed, Outbox, OutboxId, Transmit};
use events_core::push_filter::PushFilter;
use events_core::time::UnixTime;
use serde::Deserialize;
use worker::Method;

use super::store::corrupt;
use super::{now, EventLog};
use crate::error::Error;
use crate::objects;
use crate::objects::delivery::{EnqueueReply, EnqueueRequest, QueuedWire, ENQUEUE_BYTES};
use crate::objects::retention;
use crate::{authz, config};

impl EventLog {
    /// Feed one input to the outbox and carry out what it asks for: every storage change before
    /// the next `await`, then the alarm. On failure the outbox in memory is dropped.
    pub(super) async fn drive<R>(&self, input: impl FnOnce(&mut Outbox) -> R) -> Result<R, Error> {
        let result = (|| {
            let mut slot = self.outbox.borrow_mut();
            let outbox = match &mut *slot {
                Some(outbox) => outbox,
                None => slot.insert(self.load()?),
            };
            let out = input(outbox);
            let mut alarm = None;
            let mut traced = false;
            while let Some(action) = outbox.poll_action() {
                match action {
                    Action::Persist(change) => {
                        traced |= matches!(change, Change::Trace { .. });
                        self.apply(change)?
                    }
                    Action::SetAlarm(at) => alarm = Some(Some(at)),
                    Action::CancelAlarm => alarm = Some(None),
                }
            }
            // A trace row in an empty log schedules the first sweep.
            if traced && self.stored_row(now())? && alarm.is_none() {
                alarm = Some(outbox.poll_timeout());
            }
            Ok((out, alarm))
        })();
        let result = match result {
            Ok((out, Some(alarm))) => self.set_alarm(alarm).await.map(|()| out),
            Ok((out, None)) => Ok(out),
            Err(e) => Err(e),
        };
        if result.is_err() {
            self.outbox.replace(None);
        }
        result
    }

    /// Set the alarm for the outbox's wish (`machine`) or the next sweep, whichever is earlier:
    /// the outbox cancelling its alarm leaves a sweep's in place.
    pub(super) async fn set_alarm(&self, machine: Option<UnixTime>) -> Result<(), Error> {
        let at = self
            .sweeps
            .alarm(&self.state.storage().sql(), &self.env, machine)?;
        retention::set_alarm(&self.state.storage(), at).await
    }

    /// Send one party-index entry to the party's object (gone already: sent by someone else).
    pub(super) async fn send_party_entry(
        &self,
        oid: OutboxId,
        party: PartyId,
    ) -> Result<(), Error> {
        #[derive(Deserialize)]
        struct Row {
            entry: String,
        }
        let rows: Vec<Row> = self.rows(
            "SELECT entry FROM party_outbox WHERE oid = ?",
            vec![oid.0.into()],
        )?;
        let Some(row) = rows.into_iter().next() else {
            return Ok(());
        };
        let name = authz::party_object_name(&PartyKey::Id(party.0));
        let stub = objects::stub(&self.env, objects::PARTY, &name)?;
        let sent = objects::call(&stub, Method::Post, "index", Some(row.entry.into_bytes())).await;
        if let Err(e) = &sent {
            worker::console_error!("party index update failed: {}", e.describe());
        }
        sent.map(|_| ())
    }

    /// Ask the PDP which consumers may be sent an event (spec §11.6).
    pub(super) async fn authorize_push(
        &self,
        event: &EventMeta,
        filter: &PushFilter,
    ) -> Result<DecisionResponse, Error> {
        let lookups = PushFilter::lookups(event);
        let replacements = authz::person_replacements(&self.env, lookups).await?;
        let request = filter.request(event, &replacements);
        let cfg = config::load(&self.env)?;
        authz::decide(
            &self.env,
            &cfg,
            &request,
            &self.local_policies(Some(&event.resource))?,
            None,
        )
        .await
    }

    /// Hand events to subscriptions' delivery queues: one call per subscription with its share
    /// in order (split in parts of at most [`ENQUEUE_BYTES`], sent one after another), the
    /// subscriptions all at once.
    pub(super) async fn hand_off(
        &self,
        events: &[Handed],
        subs: &[SubscriptionId],
    ) -> Result<Vec<HandOff>, Error> {
        #[derive(Deserialize)]
        struct Row {
            oid: i64,
            event_json: String,
        }
        let (Some(first), Some(last)) = (events.first(), events.last()) else {
            return Ok(vec![HandOff::Queued; subs.len()]);
        };
        // The entries of a hand-off are consecutive in the outbox.
        let rows: Vec<Row> = self.rows(
            "SELECT oid, event_json FROM outbox WHERE oid BETWEEN ? AND ?",
            vec![first.oid.0.into(), last.oid.0.into()],
        )?;
        let mut queued = Vec::with_capacity(events.len());
        for handed in events {
            let row = rows
                .iter()
                .find(|r| r.oid == handed.oid.0)
                .ok_or_else(|| corrupt(format!("outbox entry {} is not stored", handed.oid.0)))?;
            queued.push((
                handed,
                QueuedWire {
                    origin: handed.key.clone(),
                    event_json: row.event_json.clone(),
                    event_id: handed.event.id.to_string(),
                    event_type: handed.event.type_.clone(),
                    resource: Some(handed.event.resource.to_string()),
                },
            ));
        }
        let queued = &queued;
        let calls = subs.iter().map(|sub| async move {
            let stub = objects::stub(&self.env, objects::DELIVERY, &sub.to_string())?;
            let mine = queued
                .iter()
                .filter(|(h, _)| h.to.contains(sub))
                .map(|(_, q)| q);
            for part in EnqueueRequest::parts(mine, ENQUEUE_BYTES) {
                objects::call_json::<_, EnqueueReply>(&stub, Method::Post, "enqueue", &part)
                    .await?;
            }
            Ok::<_, Error>(())
        });
        Ok(futures_util::future::join_all(calls)
            .await
            .into_iter()
            .map(|r| match r {
                Ok(()) => HandOff::Queued,
                Err(e) if e.is_gone() => HandOff::Gone,
                Err(e) => HandOff::Failed(e.describe()),
            })
            .collect())
    }

    /// One alarm run: what the outbox asks for, one step at a time.
    pub(super) async fn run(&self) -> Result<(), Error> {
        self.drive(|o| o.handle_alarm(now())).await?;
        while let Some(transmit) = self.drive(|o| o.poll_transmit(now())).await? {
            match transmit {
                Transmit::Index { oid, party } => {
                    let sent = self.send_party_entry(oid, party).await.is_ok();
                    self.drive(|o| o.handle_indexed(now(), oid, sent)).await?;
                }
                Transmit::Authorize { oid, event, filter } => {
                    let decisions = self.authorize_push(&event, &filter).await.map_err(|e| {
                        worker::console_error!(
                            "fan-out of event {} failed: {}",
                            event.id,
                            e.describe()
                        );
                        e.describe()
                    });
                    self.drive(|o| o.handle_decisions(now(), oid, decisions))
                        .await?;
                }
                Transmit::HandOff {
                    oid,
                    events,
                    subscriptions,
                } => {
                    let outcomes = self.hand_off(&events, &subscriptions).await?;
                    if let Some(HandOff::Failed(why)) =
                        outcomes.iter().find(|o| matches!(o, HandOff::Failed(_)))
                    {
                        let first = events.first().map(|h| h.event.id.to_string());
                        worker::console_error!(
                            "fan-out of {} event(s) from {} failed: {why}",
                            events.len(),
                            first.unwrap_or_default()
                        );
                    }
                    self.drive(|o| o.handle_handed_off(now(), oid, &outcomes))
                        .await?;
                }
            }
        }
        Ok(())
    }
}
