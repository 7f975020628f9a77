//! The `EventLog`'s publish path: the built-in PDP's publish check, the main unit look-up for
//! sub-unit matching, the event's row, the outbox's hand-over of it, and the party index. A
//! batch takes the same steps for each of its events, its rows written in one transaction.

use events_core::access::{self, PdpCheck};
use events_core::authz::mapping::{publish_request, EventAttrs};
use events_core::event::{EventRecord, PartyId};
use events_core::identity::Claims;
use events_core::outbox::Stored;
use events_core::push_filter::MainUnitSearch;
use events_core::time::UnixTime;
use serde::{Deserialize, Serialize};
use worker::{Request, Response};

use super::{now, EventLog, PublishCheck, PublishReply, PublishRequest};
use crate::error::Error;
use crate::objects::{body_json, json_reply, live, reply_json, ticks};
use crate::{authz, config};

/// Store the events of one resource from a batch, in order (worker → object).
#[derive(Debug, Serialize, Deserialize)]
pub struct BatchRequest {
    pub events: Vec<EventRecord>,
    /// Built-in PDP checks, one per event, to take before storing anything.
    pub authorize: Option<Vec<PublishCheck>>,
    /// Only take the checks (the first step of a batch that spans resources).
    pub check_only: bool,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct BatchReply {
    /// Events stored now (not stored before under the same `(id, source)`).
    pub stored: u32,
}

impl EventLog {
    /// The built-in PDP's decision on publishing `event` (403 unless permitted).
    async fn check_publish(
        &self,
        cfg: &config::Config,
        event: &EventRecord,
        check: &PublishCheck,
    ) -> Result<(), Error> {
        let attrs = EventAttrs {
            id: event.meta.id.as_str(),
            type_: &event.meta.type_,
            source: &event.meta.source,
            subject: check.subject.as_deref(),
            resource: Some(&check.resource),
            resource_instance: event.meta.resource_instance.as_deref(),
        };
        let request = publish_request(&Claims::new(check.caller.clone()), &attrs, None);
        let local = self.local_policies(Some(&event.meta.resource))?;
        let decision = authz::decide(&self.env, cfg, &request, &local, None).await?;
        access::require_permit(&decision, PdpCheck::Publish)?;
        Ok(())
    }

    /// The main unit's subject of `event` for sub-unit matching, if any subscription needs it.
    async fn main_unit_of(&self, event: &EventRecord) -> Result<Option<String>, Error> {
        match self.drive(|o| o.main_unit_search(&event.meta)).await? {
            Some(search) => self.main_unit(search).await,
            None => Ok(None),
        }
    }

    /// The event's row (no await: the caller writes it together with the outbox's rows). A
    /// repeat of `(id, source)` writes nothing and is told apart by no row coming back (the
    /// cursor's written-rows count is not zero for the skipped insert).
    fn insert_event(&self, event: &EventRecord, at: UnixTime) -> Result<Stored, Error> {
        #[derive(Deserialize)]
        struct Inserted {
            #[allow(dead_code)]
            seq: i64,
        }
        let m = &event.meta;
        let inserted: Vec<Inserted> = self.rows(
            "INSERT INTO events (id, source, subject, alt_subject, type, resource_instance, time_ticks, json, json_utc, registered)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id, source) DO NOTHING RETURNING seq",
            vec![m.id.to_string().into(), m.source.clone().into(), m.subject.clone().into(), m.alternative_subject.clone().into(),
                 m.type_.clone().into(), m.resource_instance.clone().into(), ticks(m.time_ticks),
                 event.json.clone().into(), event.json_utc.clone().into(), at.as_millis().into()],
        )?;
        Ok(if inserted.is_empty() {
            Stored::Repeat
        } else {
            Stored::New
        })
    }

    /// Events about a party are readable through GET /app/party as soon as the publish
    /// answers; if the party's object cannot be reached now, the alarm keeps trying.
    async fn send_party_entries(&self, party: PartyId) -> Result<(), Error> {
        let mut after = None;
        while let Some(oid) = self.drive(|o| o.next_party_entry(party, after)).await? {
            let sent = self.send_party_entry(oid, party).await.is_ok();
            self.drive(|o| o.handle_indexed(now(), oid, sent)).await?;
            if !sent {
                break;
            }
            after = Some(oid);
        }
        Ok(())
    }

    pub(super) async fn publish(&self, req: &mut Request) -> Result<Response, Error> {
        let p: PublishRequest = body_json(req).await?;
        let event = &p.event;
        if let Some(check) = &p.authorize {
            let cfg = config::load(&self.env)?;
            self.check_publish(&cfg, event, check).await?;
        }
        let main_unit = match p.fan_out {
            true => self.main_unit_of(event).await?,
            false => None,
        };
        // From here on nothing awaits until the writes are done: the event, its outbox
        // entries and the trace row are committed together.
        let at = now();
        let stored = if p.store {
            self.insert_event(event, at)?
        } else {
            Stored::NotKept
        };
        // The first event of an empty log schedules the first sweep (no query per publish).
        let sweep_moved = stored == Stored::New && self.stored_row(at)?;
        let party = self
            .drive(|o| o.handle_published(at, event, stored, p.fan_out, main_unit.as_deref()))
            .await?;
        if stored == Stored::New {
            live::notify(&self.state);
        }
        if sweep_moved {
            let wish = self.drive(|o| o.poll_timeout()).await?;
            self.set_alarm(wish).await?;
        }
        if let Some(party) = party {
            self.send_party_entries(party).await?;
        }
        json_reply(&PublishReply {
            stored: stored == Stored::New,
        })
        .map_err(|e| Error::platform("reply", e))
    }

    /// A batch's events of this resource: every check first, then every row and outbox entry
    /// in one transaction, in order.
    pub(super) async fn publish_batch(&self, req: &mut Request) -> Result<Response, Error> {
        let b: BatchRequest = body_json(req).await?;
        if let Some(checks) = &b.authorize {
            if checks.len() != b.events.len() {
                return Err(Error::corrupt(
                    "a batch with a check count unlike its events",
                ));
            }
            // The settings are read once for the batch (reading them costs more than a check).
            let cfg = config::load(&self.env)?;
            for (event, check) in b.events.iter().zip(checks) {
                self.check_publish(&cfg, event, check).await?;
            }
        }
        if b.check_only {
            return reply_json(&BatchReply { stored: 0 });
        }
        let mut main_units = Vec::with_capacity(b.events.len());
        for event in &b.events {
            main_units.push(self.main_unit_of(event).await?);
        }
        let at = now();
        let written = self
            .drive(|o| -> Result<(u32, bool, Vec<PartyId>), Error> {
                let mut stored = 0;
                let mut sweep_moved = false;
                let mut parties: Vec<PartyId> = Vec::new();
                for (event, main_unit) in b.events.iter().zip(&main_units) {
                    let kept = self.insert_event(event, at)?;
                    stored += u32::from(kept == Stored::New);
                    // The first event of an empty log schedules the first sweep.
                    if kept == Stored::New && self.stored_row(at)? {
                        sweep_moved = true;
                    }
                    if let Some(party) =
                        o.handle_published(at, event, kept, true, main_unit.as_deref())
                    {
                        if !parties.contains(&party) {
                            parties.push(party);
                        }
                    }
                }
                Ok((stored, sweep_moved, parties))
            })
            .await?;
        let (stored, sweep_moved, parties) = match written {
            Ok(written) => written,
            Err(e) => {
                // Some rows may be written; the outbox is rebuilt from what storage holds, and
                // open streams look.
                self.outbox.replace(None);
                live::notify(&self.state);
                return Err(e);
            }
        };
        if stored > 0 {
            live::notify(&self.state);
        }
        if sweep_moved {
            let wish = self.drive(|o| o.poll_timeout()).await?;
            self.set_alarm(wish).await?;
        }
        for party in parties {
            self.send_party_entries(party).await?;
        }
        reply_json(&BatchReply { stored })
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
}
