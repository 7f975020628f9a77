//! One stored event, the record the event log, its outbox and the party index share: the event
//! as published (and in its read form) with the attributes that filtering, matching and
//! authorization look at. Its serde form is the one the objects exchange.

use alloc::borrow::ToOwned;
use alloc::string::String;

use serde::{Deserialize, Serialize};

use crate::authz::mapping::EventView;
use crate::cloud_event::{is_instance_source, CloudEvent};

pub use crate::identity::PartyId;
pub use crate::urn::ResourceUrn;

text_id! {
    /// An event's `id` as its publisher gave it (unique per source, not across sources).
    EventId
}

/// What filtering, matching and authorization look at of an event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventMeta {
    pub id: EventId,
    pub source: String,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub alternative_subject: Option<String>,
    #[serde(rename = "type")]
    pub type_: String,
    /// The resource URN (the log's name).
    pub resource: ResourceUrn,
    #[serde(default)]
    pub resource_instance: Option<String>,
    /// Event `time` in UTC ticks, for `from`/`to` filters.
    #[serde(default)]
    pub time_ticks: Option<i64>,
}

/// An event as the log stores it: its attributes and its text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRecord {
    #[serde(flatten)]
    pub meta: EventMeta,
    /// The event as published (canonical JSON, original `time` offset).
    pub json: String,
    /// The read form when it differs (time converted to UTC).
    #[serde(default)]
    pub json_utc: Option<String>,
}

impl EventRecord {
    /// The record of a parsed event.
    pub fn from_event(event: &CloudEvent) -> EventRecord {
        EventRecord {
            meta: EventMeta {
                id: EventId::from(event.id()),
                source: event.source().to_owned(),
                subject: event.subject().map(str::to_owned),
                alternative_subject: event.alternative_subject().map(str::to_owned),
                type_: event.type_().to_owned(),
                resource: ResourceUrn::from(event.resource().unwrap_or_default()),
                resource_instance: event.resource_instance().map(str::to_owned),
                time_ticks: event.time().map(|t| t.utc_ticks()),
            },
            json: event.to_json(),
            json_utc: event.has_non_utc_time().then(|| event.to_json_utc()),
        }
    }
}

impl EventMeta {
    /// The party whose index lists this event, if any: only app instance events about a
    /// party (`/party/{id}`) can ever be returned by `GET /app/party` (spec §6.6).
    pub fn indexed_party(&self) -> Option<PartyId> {
        let party = PartyId::from_subject(self.subject.as_deref()?)?;
        is_instance_source(&self.source).then_some(party)
    }
}

impl EventView for EventMeta {
    fn id(&self) -> &str {
        self.id.as_str()
    }
    fn type_(&self) -> &str {
        &self.type_
    }
    fn source(&self) -> &str {
        &self.source
    }
    fn subject(&self) -> Option<&str> {
        self.subject.as_deref()
    }
    fn resource(&self) -> Option<&str> {
        Some(self.resource.as_str())
    }
    fn resource_instance(&self) -> Option<&str> {
        self.resource_instance.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn record(subject: Option<&str>, source: &str) -> EventRecord {
        EventRecord {
            meta: EventMeta {
                id: "e1".into(),
                source: source.into(),
                subject: subject.map(str::to_owned),
                alternative_subject: None,
                type_: "app.instance.created".into(),
                resource: "urn:altinn:resource:app_ttd_a".into(),
                resource_instance: None,
                time_ticks: None,
            },
            json: "{}".into(),
            json_utc: None,
        }
    }

    const INSTANCE: &str =
        "https://ttd.apps.altinn.no/ttd/a/instances/50001/0b6b3e06-4a4b-4bd5-9f3c-9d06bbbf2f5e";

    #[wasm_bindgen_test(unsupported = test)]
    fn only_instance_events_about_a_party_are_indexed() {
        assert_eq!(
            record(Some("/party/50001"), INSTANCE).meta.indexed_party(),
            Some(PartyId(50001))
        );
        assert_eq!(
            record(Some("/party/x"), INSTANCE).meta.indexed_party(),
            None
        );
        assert_eq!(record(None, INSTANCE).meta.indexed_party(), None);
        assert_eq!(
            record(Some("/party/50001"), "https://ttd.apps.altinn.no/ttd/a")
                .meta
                .indexed_party(),
            None
        );
        assert_eq!(
            record(Some("/org/50001"), INSTANCE).meta.indexed_party(),
            None
        );
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn the_serde_form_names_the_type_field_type() {
        let json = serde_json::to_string(&record(None, INSTANCE)).unwrap();
        assert!(json.contains("\"type\":\"app.instance.created\""));
        assert!(json.starts_with("{\"id\":\"e1\""));
        let back: EventRecord = serde_json::from_str(&json).unwrap();
        assert_eq!(back, record(None, INSTANCE));
        assert_eq!(PartyId(7).to_string(), "7");
    }
}
