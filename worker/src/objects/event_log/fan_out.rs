//! The `EventLog`'s fan-out: the driver of core's [`Outbox`]. It rebuilds the outbox from its
//! rows, writes the changes the outbox asks for, sets its alarm, and makes its calls (the party
//! register, the PDP, the delivery and party objects) in the alarm run, reporting each back.

use events_core::authz::builtin::PartyKey;
use events_core::authz::xacml::DecisionResponse;
use events_core::event::{EventMeta, EventRecord, PartyId, ResourceUrn};
use events_core::matching::SubscriptionId;
use events_core::outbox::{
    targets_text, Action, Change, HandOff, Outbox, OutboxId, StoredEntry, StoredPartyEntry,
    StoredSubscription, Transmit,
};
use events_core::push_filter::{MainUnitSearch, PushFilter};
use events_core::time::UnixTime;
use serde::Deserialize;
use worker::{Method, SqlStorageValue};

use super::{corrupt, now, to_json, EventLog};
use crate::error::Error;
use crate::objects;
use crate::objects::delivery::{EnqueueReply, EnqueueRequest, TraceRow};
use crate::{authz, config};

impl EventLog {
    /// The outbox as storage describes it.
    pub(super) fn load(&self) -> Result<Outbox, Error> {
        #[derive(Deserialize)]
        struct Sequence {
            name: String,
            seq: i64,
        }
        let subs: Vec<StoredSubscription> =
            self.rows("SELECT id, subscription, validated FROM subs", vec![])?;
        let entries: Vec<StoredEntry> = self.rows(
            "SELECT oid, id, source, subject, type, resource_instance, resource, targets, progress, attempts, next_at FROM outbox",
            vec![],
        )?;
        let party: Vec<StoredPartyEntry> =
            self.rows("SELECT oid, party FROM party_outbox", vec![])?;
        // Ids are never given out twice, also after their rows are gone.
        let seqs: Vec<Sequence> = self.rows(
            "SELECT name, seq FROM sqlite_sequence WHERE name IN ('outbox', 'party_outbox')",
            vec![],
        )?;
        let last = |table: &str| seqs.iter().find(|s| s.name == table).map_or(0, |s| s.seq);
        Outbox::restore(subs, entries, party, last("outbox"), last("party_outbox")).map_err(corrupt)
    }

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
            while let Some(action) = outbox.poll_action() {
                match action {
                    Action::Persist(change) => self.apply(change)?,
                    Action::SetAlarm(at) => alarm = Some(Some(at)),
                    Action::CancelAlarm => alarm = Some(None),
                }
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

    pub(super) async fn set_alarm(&self, at: Option<UnixTime>) -> Result<(), Error> {
        let storage = self.state.storage();
        match at {
            Some(at) => {
                let date = js_sys::Date::new(&(at.as_millis() as f64).into());
                storage.set_alarm(worker::ScheduledTime::new(date)).await
            }
            None => storage.delete_alarm().await,
        }
        .map_err(|e| Error::platform("Could not schedule background work", e))
    }

    /// One storage change, as SQL.
    pub(super) fn apply(&self, change: Change) -> Result<(), Error> {
        let id = |oid: OutboxId| SqlStorageValue::from(oid.0);
        match change {
            Change::Subscription { subscription: s, validated } => self.exec(
                "INSERT INTO subs (id, subscription, validated, include_subunits) VALUES (?, ?, ?, ?)
                 ON CONFLICT (id) DO UPDATE SET subscription = excluded.subscription, validated = excluded.validated,
                 include_subunits = excluded.include_subunits",
                vec![s.id.0.into(), to_json(&*s)?.into(), i64::from(validated).into(), i64::from(s.include_subunits).into()],
            ),
            Change::SubscriptionDeleted(sub) => self.exec("DELETE FROM subs WHERE id = ?", vec![sub.0.into()]),
            Change::SubscriptionValidated(sub) => self.exec("UPDATE subs SET validated = 1 WHERE id = ?", vec![sub.0.into()]),
            Change::Queued { oid, event, targets, at } => {
                let EventRecord { meta: e, json, .. } = *event;
                self.exec(
                    "INSERT INTO outbox (oid, event_json, id, source, subject, type, resource_instance, resource, targets, next_at)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    vec![id(oid), json.into(), e.id.into_string().into(), e.source.into(), e.subject.into(), e.type_.into(),
                         e.resource_instance.into(), e.resource.into_string().into(), targets_text(&targets).into(), at.as_millis().into()],
                )
            }
            Change::Progress { oid, progress } => self.exec(
                "UPDATE outbox SET progress = ? WHERE oid = ?",
                vec![(progress as i64).into(), id(oid)],
            ),
            Change::Backoff { oid, attempts, next_at } => self.exec(
                "UPDATE outbox SET attempts = ?, next_at = ? WHERE oid = ?",
                vec![i64::from(attempts).into(), next_at.as_millis().into(), id(oid)],
            ),
            Change::Done(oid) => self.exec("DELETE FROM outbox WHERE oid = ?", vec![id(oid)]),
            Change::PartyQueued { oid, party, event } => self.exec(
                "INSERT INTO party_outbox (oid, party, entry) VALUES (?, ?, ?)",
                vec![id(oid), party.0.into(), to_json(&*event)?.into()],
            ),
            Change::PartyIndexed(oid) => self.exec("DELETE FROM party_outbox WHERE oid = ?", vec![id(oid)]),
            Change::Trace { activity, event_id, event_type, target, at } => {
                let (sub, consumer) = target.map_or((None, None), |(s, c)| (Some(s), Some(c)));
                self.exec(
                    "INSERT INTO trace (time, activity, event_id, event_type, consumer, subscription_id) VALUES (?, ?, ?, ?, ?, ?)",
                    vec![at.as_millis().into(), activity.as_str().into(), event_id.into_string().into(), event_type.into(), consumer.into(), sub.map(|s| s.0).into()],
                )
            }
        }
        .map(|_| ())
    }

    /// The main unit's subject for sub-unit delivery, from the party register.
    pub(super) async fn main_unit(
        &self,
        mut search: MainUnitSearch,
    ) -> Result<Option<String>, Error> {
        loop {
            let party = authz::load_party(&self.env, &search.lookup()).await?;
            match search.handle_party(party) {
                Ok(subject) => return Ok(subject),
                Err(next) => search = next,
            }
        }
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

    /// Hand an outbox entry's event to subscriptions' delivery queues, all at once.
    pub(super) async fn hand_off(
        &self,
        oid: OutboxId,
        key: String,
        event: &EventMeta,
        subs: &[SubscriptionId],
    ) -> Result<Vec<HandOff>, Error> {
        #[derive(Deserialize)]
        struct Row {
            event_json: String,
        }
        let rows: Vec<Row> = self.rows(
            "SELECT event_json FROM outbox WHERE oid = ?",
            vec![oid.0.into()],
        )?;
        let row = rows
            .into_iter()
            .next()
            .ok_or_else(|| corrupt(format!("outbox entry {} is not stored", oid.0)))?;
        let req = EnqueueRequest {
            origin: key,
            event_json: row.event_json,
            event_id: event.id.to_string(),
            event_type: event.type_.clone(),
            resource: Some(event.resource.to_string()),
        };
        let calls = subs.iter().map(|sub| {
            let req = &req;
            async move {
                let stub = objects::stub(&self.env, objects::DELIVERY, &sub.to_string())?;
                objects::call_json::<_, EnqueueReply>(&stub, Method::Post, "enqueue", req).await
            }
        });
        Ok(futures_util::future::join_all(calls)
            .await
            .into_iter()
            .map(|r| match r {
                Ok(_) => HandOff::Queued,
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
                    key,
                    event,
                    subscriptions,
                } => {
                    let outcomes = self.hand_off(oid, key, &event, &subscriptions).await?;
                    if let Some(HandOff::Failed(why)) =
                        outcomes.iter().find(|o| matches!(o, HandOff::Failed(_)))
                    {
                        worker::console_error!("fan-out of event {} failed: {why}", event.id);
                    }
                    self.drive(|o| o.handle_handed_off(now(), oid, &outcomes))
                        .await?;
                }
            }
        }
        Ok(())
    }

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
