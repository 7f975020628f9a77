//! The `EventLog`'s publish path: the built-in PDP's publish check, the main unit look-up for
//! sub-unit matching, the event's row, the outbox's hand-over of it, and the party index.

use events_core::access::{self, PdpCheck};
use events_core::authz::mapping::{publish_request, EventAttrs};
use events_core::identity::Claims;
use events_core::outbox::Stored;
use events_core::push_filter::MainUnitSearch;
use worker::{Request, Response};

use super::{now, EventLog, PublishReply, PublishRequest};
use crate::error::Error;
use crate::objects::{body_json, json_reply, ticks};
use crate::{authz, config};

impl EventLog {
    pub(super) async fn publish(&self, req: &mut Request) -> Result<Response, Error> {
        let p: PublishRequest = body_json(req).await?;
        let event = &p.event;
        if let Some(check) = &p.authorize {
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
            let cfg = config::load(&self.env)?;
            let decision = authz::decide(&self.env, &cfg, &request, &local, None).await?;
            access::require_permit(&decision, PdpCheck::Publish)?;
        }
        let search = match p.fan_out {
            true => self.drive(|o| o.main_unit_search(&event.meta)).await?,
            false => None,
        };
        let main_unit = match search {
            Some(search) => self.main_unit(search).await?,
            None => None,
        };
        // From here on nothing awaits until the writes are done: the event, its outbox
        // entries and the trace row are committed together.
        let at = now();
        let stored = if p.store {
            let m = &event.meta;
            let written = self.exec(
                "INSERT INTO events (id, source, subject, alt_subject, type, resource_instance, time_ticks, json, json_utc, registered)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id, source) DO NOTHING",
                vec![m.id.to_string().into(), m.source.clone().into(), m.subject.clone().into(), m.alternative_subject.clone().into(),
                     m.type_.clone().into(), m.resource_instance.clone().into(), ticks(m.time_ticks),
                     event.json.clone().into(), event.json_utc.clone().into(), at.as_millis().into()],
            )?;
            if written > 0 {
                Stored::New
            } else {
                Stored::Repeat
            }
        } else {
            Stored::NotKept
        };
        // The first event of an empty log schedules the first sweep (no query per publish).
        let sweep_moved = stored == Stored::New && self.stored_row(at)?;
        let party = self
            .drive(|o| o.handle_published(at, event, stored, p.fan_out, main_unit.as_deref()))
            .await?;
        if sweep_moved {
            let wish = self.drive(|o| o.poll_timeout()).await?;
            self.set_alarm(wish).await?;
        }
        // Events about a party are readable through GET /app/party as soon as this answers;
        // if the party's object cannot be reached now, the alarm keeps trying.
        if let Some(party) = party {
            let mut after = None;
            while let Some(oid) = self.drive(|o| o.next_party_entry(party, after)).await? {
                let sent = self.send_party_entry(oid, party).await.is_ok();
                self.drive(|o| o.handle_indexed(now(), oid, sent)).await?;
                if !sent {
                    break;
                }
                after = Some(oid);
            }
        }
        json_reply(&PublishReply {
            stored: stored == Stored::New,
        })
        .map_err(|e| Error::platform("reply", e))
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
