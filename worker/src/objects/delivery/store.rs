//! The `Delivery` object's storage: the schema, the queue's rows as core's `Change`s describe
//! them, the machine rebuilt from the rows, and the trace log and dead letters as the API reads
//! them. Rows are read by column name; a row that does not decode is an error.

use events_core::delivery_queue::{
    Change, DeliveryQueue, EntryState, StoredDeadLetter, StoredEntry,
};
use events_core::subscription::Subscription;
use events_core::time::UnixTime;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use worker::SqlStorageValue;

use super::super::sql_error;
use super::{corrupt, Delivery};
use crate::config;
use crate::error::Error;

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (k INTEGER PRIMARY KEY CHECK (k = 1), subscription TEXT NOT NULL, deleted INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS queue (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, msg INTEGER NOT NULL, origin TEXT NOT NULL UNIQUE,
  event_json TEXT NOT NULL, event_id TEXT NOT NULL, event_type TEXT NOT NULL, resource TEXT,
  enqueued INTEGER NOT NULL, state INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER NOT NULL, delivered INTEGER NOT NULL DEFAULT 0,
  last_status INTEGER, last_error TEXT, finished INTEGER
);
CREATE INDEX IF NOT EXISTS queue_pending ON queue (state, seq);
CREATE TABLE IF NOT EXISTS dead_letters (
  seq INTEGER PRIMARY KEY, msg INTEGER NOT NULL, origin TEXT NOT NULL,
  event_json TEXT NOT NULL, event_id TEXT NOT NULL, event_type TEXT NOT NULL, resource TEXT,
  enqueued INTEGER NOT NULL, attempts INTEGER NOT NULL, failed INTEGER NOT NULL,
  last_status INTEGER, last_error TEXT
);
CREATE TABLE IF NOT EXISTS trace (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT NULL, activity TEXT NOT NULL,
  event_id TEXT, resource TEXT, event_type TEXT, consumer TEXT, endpoint TEXT, status INTEGER
);
CREATE TABLE IF NOT EXISTS attempts (
  id INTEGER PRIMARY KEY, seq INTEGER NOT NULL, msg INTEGER NOT NULL, event_id TEXT NOT NULL,
  attempt INTEGER NOT NULL, time INTEGER NOT NULL, outcome TEXT NOT NULL, status INTEGER,
  latency_ms INTEGER NOT NULL, response TEXT, next_at INTEGER, note TEXT
);
CREATE TABLE IF NOT EXISTS health (
  k INTEGER PRIMARY KEY CHECK (k = 1), last_success INTEGER, last_failure INTEGER,
  failing_since INTEGER, disabled_at INTEGER
);
CREATE TABLE IF NOT EXISTS signing (
  k INTEGER PRIMARY KEY CHECK (k = 1), secret TEXT NOT NULL, previous TEXT, previous_until INTEGER
);
CREATE INDEX IF NOT EXISTS queue_by_finished ON queue (finished);
CREATE INDEX IF NOT EXISTS dead_letters_by_failed ON dead_letters (failed);
CREATE INDEX IF NOT EXISTS trace_by_time ON trace (time);
CREATE INDEX IF NOT EXISTS attempts_by_time ON attempts (time);
";

/// Queues stored before webhook ids existed get theirs: the event's first position is its own.
pub(super) fn migrate(sql: &worker::SqlStorage) -> Result<(), worker::Error> {
    for table in ["queue", "dead_letters"] {
        if sql
            .exec(&format!("SELECT msg FROM {table} LIMIT 0"), None)
            .is_err()
        {
            sql.exec(
                &format!(
                    "ALTER TABLE {table} ADD COLUMN msg INTEGER NOT NULL DEFAULT 0; UPDATE {table} SET msg = seq"
                ),
                None,
            )?;
        }
    }
    Ok(())
}

impl Delivery {
    pub(super) fn exec(&self, query: &str, args: Vec<SqlStorageValue>) -> Result<(), Error> {
        let sql = self.state.storage().sql();
        sql.exec(query, args).map(|_| ()).map_err(sql_error)
    }

    /// Rows decoded by column name.
    pub(super) fn rows<T: DeserializeOwned>(
        &self,
        query: &str,
        args: Vec<SqlStorageValue>,
    ) -> Result<Vec<T>, Error> {
        let sql = self.state.storage().sql();
        let cursor = sql.exec(query, args).map_err(sql_error)?;
        cursor
            .to_array()
            .map_err(|e| corrupt(format!("{query}: {e}")))
    }

    /// The queue as storage describes it.
    pub(super) fn load(&self) -> Result<DeliveryQueue, Error> {
        #[derive(Deserialize)]
        struct Meta {
            subscription: String,
            deleted: i64,
        }
        let cfg = config::load(&self.env)?;
        let meta: Vec<Meta> =
            self.rows("SELECT subscription, deleted FROM meta WHERE k = 1", vec![])?;
        let subscription = match meta.into_iter().next() {
            None => None,
            Some(m) => Some((
                serde_json::from_str(&m.subscription).map_err(|e| corrupt(format!("meta: {e}")))?,
                m.deleted != 0,
            )),
        };
        let entries: Vec<StoredEntry> = self.rows(
            "SELECT seq, msg, origin, event_type, state, attempts, next_at, delivered, finished FROM queue",
            vec![],
        )?;
        let dead: Vec<StoredDeadLetter> = self.rows(
            "SELECT seq, msg, origin, event_type FROM dead_letters",
            vec![],
        )?;
        let (health, signing, last_attempt) = self.load_control()?;
        // Entry numbers are never given out twice, also after their rows are gone.
        #[derive(Deserialize)]
        struct Sequence {
            seq: i64,
        }
        let last_seq: Vec<Sequence> = self.rows(
            "SELECT seq FROM sqlite_sequence WHERE name = 'queue'",
            vec![],
        )?;
        let last_seq = last_seq.into_iter().next().map_or(0, |s| s.seq);
        Ok(
            DeliveryQueue::restore(cfg.retry_schedule.clone(), subscription, entries, dead)
                .map_err(corrupt)?
                .with_last_seq(last_seq)
                .with_disable_after(Some(cfg.disable_after_ms))
                .with_stored(health, signing, last_attempt),
        )
    }

    /// One storage change, as SQL.
    pub(super) fn apply(&self, sub: Option<&Subscription>, change: Change) -> Result<(), Error> {
        let state = |s: EntryState| SqlStorageValue::from(s.code());
        let ms = |t: UnixTime| SqlStorageValue::from(t.as_millis());
        let status = |s: Option<u16>| SqlStorageValue::from(s.map(i64::from));
        match change {
            Change::Subscription { subscription, deleted } => {
                let json = serde_json::to_string(&subscription)?;
                self.exec(
                    "INSERT INTO meta (k, subscription, deleted) VALUES (1, ?, ?)
                     ON CONFLICT (k) DO UPDATE SET subscription = excluded.subscription, deleted = excluded.deleted",
                    vec![json.into(), i64::from(deleted).into()],
                )
            }
            Change::Enqueued { seq, key, event, at } => self.exec(
                "INSERT INTO queue (seq, msg, origin, event_json, event_id, event_type, resource, enqueued, next_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                vec![seq.0.into(), seq.0.into(), key.into(), event.event_json.into(), event.event_id.into(), event.event_type.into(), event.resource.into(), ms(at), ms(at)],
            ),
            Change::Retry { seq, attempts, next_at, last_status, last_error } => self.exec(
                "UPDATE queue SET attempts = ?, next_at = ?, last_status = ?, last_error = ? WHERE seq = ?",
                vec![i64::from(attempts).into(), ms(next_at), status(last_status), last_error.into(), seq.0.into()],
            ),
            Change::ValidationAnswered { seq } => {
                self.exec("UPDATE queue SET delivered = 1 WHERE seq = ?", vec![seq.0.into()])
            }
            Change::Delivered { seq, attempts, at } => self.exec(
                "UPDATE queue SET state = ?, finished = ?, attempts = ? WHERE seq = ?",
                vec![state(EntryState::Done), ms(at), i64::from(attempts).into(), seq.0.into()],
            ),
            Change::Cancelled { seq, at } => self.exec(
                "UPDATE queue SET state = ?, finished = ? WHERE seq = ?",
                vec![state(EntryState::Done), ms(at), seq.0.into()],
            ),
            Change::DeadLettered { seq, attempts, at, last_status, last_error } => {
                self.exec(
                    "INSERT INTO dead_letters (seq, msg, origin, event_json, event_id, event_type, resource, enqueued, attempts, failed, last_status, last_error)
                     SELECT seq, msg, origin, event_json, event_id, event_type, resource, enqueued, ?, ?, ?, ? FROM queue WHERE seq = ?",
                    vec![i64::from(attempts).into(), ms(at), status(last_status), last_error.into(), seq.0.into()],
                )?;
                self.exec(
                    "UPDATE queue SET state = ?, finished = ?, attempts = ? WHERE seq = ?",
                    vec![state(EntryState::Dead), ms(at), i64::from(attempts).into(), seq.0.into()],
                )
            }
            Change::Redelivered { dead, seq, key, at } => {
                self.exec(
                    "INSERT INTO queue (seq, msg, origin, event_json, event_id, event_type, resource, enqueued, next_at)
                     SELECT ?, msg, ?, event_json, event_id, event_type, resource, ?, ? FROM dead_letters WHERE seq = ?",
                    vec![seq.0.into(), key.into(), ms(at), ms(at), dead.0.into()],
                )?;
                self.exec("DELETE FROM dead_letters WHERE seq = ?", vec![dead.0.into()])
            }
            Change::DroppedPending => {
                self.exec("DELETE FROM queue WHERE state = ?", vec![state(EntryState::Pending)])
            }
            Change::Pruned { before } => self.exec(
                "DELETE FROM queue WHERE state = ? AND finished < ?",
                vec![state(EntryState::Done), ms(before)],
            ),
            Change::Trace { seq, activity, status, at } => self.exec(
                "INSERT INTO trace (time, activity, event_id, resource, event_type, consumer, endpoint, status)
                 SELECT ?, ?, event_id, resource, event_type, ?, ?, ? FROM queue WHERE seq = ?",
                vec![
                    ms(at),
                    activity.as_str().into(),
                    sub.map(|s| s.consumer.clone()).into(),
                    sub.map(|s| s.end_point.clone()).into(),
                    i64::from(status).into(),
                    seq.0.into(),
                ],
            ),
            Change::Note { activity, at, .. } => self.exec(
                "INSERT INTO trace (time, activity, consumer, endpoint) VALUES (?, ?, ?, ?)",
                vec![
                    ms(at),
                    activity.as_str().into(),
                    sub.map(|s| s.consumer.clone()).into(),
                    sub.map(|s| s.end_point.clone()).into(),
                ],
            ),
            Change::Attempt(record) => self.save_attempt(&record),
            Change::PruneAttempts { through } => self.prune_attempts(through),
            Change::Health(health) => self.save_health(health),
            Change::Signing(signing) => self.save_signing(&signing),
            Change::Resumed { seq, next_at } => self.exec(
                "UPDATE queue SET next_at = ? WHERE seq = ?",
                vec![ms(next_at), seq.0.into()],
            ),
        }
    }
}
