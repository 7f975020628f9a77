//! The `EventLog`'s storage: its schema, its SQL helpers, and the outbox's rows: read back into
//! core's [`Outbox`] after an eviction, and written as the outbox's changes ask.

use events_core::event::EventRecord;
use events_core::outbox::{
    targets_text, Change, Outbox, OutboxId, StoredEntry, StoredPartyEntry, StoredSubscription,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use worker::SqlStorageValue;

use super::EventLog;
use crate::error::Error;
use crate::objects::sql_error;

/// The log's own tables; the `events` table is [`crate::objects::event_query::EVENTS_TABLE`].
pub(super) const SCHEMA: &str = "
CREATE INDEX IF NOT EXISTS events_by_subject ON events (subject, seq);
CREATE TABLE IF NOT EXISTS policy (k INTEGER PRIMARY KEY CHECK (k = 1), doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS subs (
  id INTEGER PRIMARY KEY, subscription TEXT NOT NULL, validated INTEGER NOT NULL,
  include_subunits INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
  oid INTEGER PRIMARY KEY AUTOINCREMENT, event_json TEXT NOT NULL, id TEXT NOT NULL,
  source TEXT NOT NULL, subject TEXT, type TEXT NOT NULL, resource_instance TEXT,
  resource TEXT NOT NULL, targets TEXT NOT NULL, progress INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS party_outbox (
  oid INTEGER PRIMARY KEY AUTOINCREMENT, party INTEGER NOT NULL, entry TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS trace (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT NULL, activity TEXT NOT NULL,
  event_id TEXT, event_type TEXT, consumer TEXT, endpoint TEXT, subscription_id INTEGER
);
CREATE INDEX IF NOT EXISTS trace_by_time ON trace (time);
";

/// A stored row that cannot be read: an error, logged, never a default.
pub(super) fn corrupt(what: impl std::fmt::Display) -> Error {
    Error::corrupt(format_args!("event log: {what}"))
}

/// JSON text of a value to store.
pub(super) fn to_json<T: Serialize>(value: &T) -> Result<String, Error> {
    serde_json::to_string(value).map_err(|e| Error::platform("Could not encode stored data", e))
}

impl EventLog {
    pub(super) fn exec(&self, query: &str, args: Vec<SqlStorageValue>) -> Result<usize, Error> {
        let cursor = self
            .state
            .storage()
            .sql()
            .exec(query, args)
            .map_err(sql_error)?;
        Ok(cursor.rows_written())
    }

    /// Rows decoded by column name.
    pub(super) fn rows<T: DeserializeOwned>(
        &self,
        q: &str,
        args: Vec<SqlStorageValue>,
    ) -> Result<Vec<T>, Error> {
        let cursor = self
            .state
            .storage()
            .sql()
            .exec(q, args)
            .map_err(sql_error)?;
        cursor.to_array().map_err(|e| corrupt(format!("{q}: {e}")))
    }

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
}
