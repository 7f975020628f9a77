//! What a subscriber sees of and controls in its queue: the attempt log, the endpoint's health
//! (and disabling a subscription whose endpoint keeps failing), resuming it, and the signing
//! secrets its deliveries carry.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::{Change, DeliveryQueue, Gone, Outcome, Seq};
use crate::delivery::Activity;
use crate::error::ApiError;
use crate::signing::{self, Secret, Signing};
use crate::time::UnixTime;

/// Attempts kept per subscription beyond those of messages still queued or dead-lettered.
pub const KEEP_ATTEMPTS: i64 = 1000;
/// How often (in attempts) old attempt-log rows are pruned.
const PRUNE_EVERY: i64 = 100;
/// The most of an answer's body the attempt log keeps (bytes).
pub const RESPONSE_PREFIX_BYTES: usize = 1024;
/// Attempt-log page sizes.
pub const DEFAULT_ATTEMPT_PAGE: u32 = 50;
pub const MAX_ATTEMPT_PAGE: u32 = 1000;

/// How one POST went, with what the attempt log keeps of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempted {
    pub outcome: Outcome,
    pub latency_ms: u32,
    /// The start of the answer's body ([`RESPONSE_PREFIX_BYTES`] at most).
    pub response: Option<String>,
}

impl From<Outcome> for Attempted {
    fn from(outcome: Outcome) -> Attempted {
        Attempted {
            outcome,
            latency_ms: 0,
            response: None,
        }
    }
}

/// The start of a response body for the attempt log: at most [`RESPONSE_PREFIX_BYTES`],
/// cut on a character boundary, invalid UTF-8 replaced.
pub fn response_prefix(body: &[u8]) -> String {
    let cut = body.get(..RESPONSE_PREFIX_BYTES).unwrap_or(body);
    let text = String::from_utf8_lossy(cut);
    let mut text = String::from(text);
    // A replacement character at the very end is a character the cut split: drop it.
    if body.len() > RESPONSE_PREFIX_BYTES && text.ends_with('\u{FFFD}') {
        text.pop();
    }
    text
}

/// How an attempt ended, as the attempt log names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptOutcome {
    Success,
    HttpError,
    Timeout,
    ConnectionError,
}

impl AttemptOutcome {
    pub fn of(outcome: &Outcome) -> AttemptOutcome {
        match outcome {
            Outcome::Answered(_) if outcome.success() => AttemptOutcome::Success,
            Outcome::Answered(_) => AttemptOutcome::HttpError,
            Outcome::TimedOut(_) => AttemptOutcome::Timeout,
            Outcome::Failed(_) => AttemptOutcome::ConnectionError,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AttemptOutcome::Success => "success",
            AttemptOutcome::HttpError => "http_error",
            AttemptOutcome::Timeout => "timeout",
            AttemptOutcome::ConnectionError => "connection_error",
        }
    }
}

/// One attempt-log row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttemptRecord {
    pub id: i64,
    pub seq: Seq,
    /// The message (see [`signing::webhook_id`]) the attempt belongs to.
    pub message: i64,
    /// 1-based, per queue entry.
    pub attempt: u32,
    pub at: UnixTime,
    pub outcome: AttemptOutcome,
    pub status: Option<u16>,
    pub latency_ms: u32,
    pub response: Option<String>,
    pub next_attempt_at: Option<UnixTime>,
    /// Why delivery paused after this attempt, if it did.
    pub note: Option<String>,
}

/// An attempt-log row as stored (read back by column name) and shown by the API.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredAttemptRow {
    pub id: i64,
    pub event_id: String,
    pub attempt: i64,
    pub time: i64,
    pub outcome: AttemptOutcome,
    pub status: Option<i64>,
    pub latency_ms: i64,
    pub response: Option<String>,
    pub next_at: Option<i64>,
    pub note: Option<String>,
}

/// Which page of the attempt log: after attempt id `after` (0: the start), `size` rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttemptQuery {
    pub after: i64,
    pub size: u32,
}

impl AttemptQuery {
    /// From the query parameters `after` (a cursor from a `next` link) and `size`.
    pub fn parse(after: Option<&str>, size: Option<&str>) -> Result<AttemptQuery, ApiError> {
        let after =
            match after {
                None | Some("") => 0,
                Some(a) => a.parse::<i64>().ok().filter(|a| *a >= 0).ok_or_else(|| {
                    ApiError::bad_request(format!("'{a}' is not an attempt cursor"))
                })?,
            };
        let size = match size {
            None | Some("") => DEFAULT_ATTEMPT_PAGE,
            Some(s) => s
                .parse::<u32>()
                .ok()
                .filter(|s| (1..=MAX_ATTEMPT_PAGE).contains(s))
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "size must be a whole number from 1 to {MAX_ATTEMPT_PAGE}"
                    ))
                })?,
        };
        Ok(AttemptQuery { after, size })
    }

    /// The cursor of the next page, when this one came back full.
    pub fn next_after(&self, rows: &[StoredAttemptRow]) -> Option<i64> {
        let full = rows.len() >= usize::try_from(self.size).unwrap_or(usize::MAX);
        rows.last().filter(|_| full).map(|r| r.id)
    }
}

/// How the subscription's endpoint is doing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Health {
    pub last_success_at: Option<UnixTime>,
    pub last_failure_at: Option<UnixTime>,
    /// The first failure since the last success.
    pub failing_since: Option<UnixTime>,
    /// Set while delivery is paused because the endpoint failed for too long.
    pub disabled_at: Option<UnixTime>,
}

/// The stored health row (read back by column name; no row: nothing happened yet).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredHealth {
    pub last_success: Option<i64>,
    pub last_failure: Option<i64>,
    pub failing_since: Option<i64>,
    pub disabled_at: Option<i64>,
}

impl From<StoredHealth> for Health {
    fn from(s: StoredHealth) -> Health {
        Health {
            last_success_at: s.last_success.map(UnixTime::from_millis),
            last_failure_at: s.last_failure.map(UnixTime::from_millis),
            failing_since: s.failing_since.map(UnixTime::from_millis),
            disabled_at: s.disabled_at.map(UnixTime::from_millis),
        }
    }
}

impl From<Health> for StoredHealth {
    fn from(h: Health) -> StoredHealth {
        StoredHealth {
            last_success: h.last_success_at.map(UnixTime::as_millis),
            last_failure: h.last_failure_at.map(UnixTime::as_millis),
            failing_since: h.failing_since.map(UnixTime::as_millis),
            disabled_at: h.disabled_at.map(UnixTime::as_millis),
        }
    }
}

impl DeliveryQueue {
    /// Pause delivery once the endpoint has failed every attempt for `ms` (`None`: never).
    pub fn with_disable_after(mut self, ms: Option<i64>) -> Self {
        self.disable_after_ms = ms;
        self
    }

    /// The rest of what storage holds: the endpoint's health, the signing secrets and the last
    /// attempt-log id given out.
    pub fn with_stored(
        mut self,
        health: Health,
        signing: Option<Signing>,
        last_attempt_id: i64,
    ) -> Self {
        self.model.health = health;
        self.model.signing = signing;
        self.last_attempt_id = last_attempt_id;
        self
    }

    pub fn health(&self) -> Health {
        self.model.health
    }

    /// The current secret (`None`: the subscription predates signing and was never rotated).
    pub fn secret(&self) -> Option<&Secret> {
        self.model.signing.as_ref().map(|s| &s.current)
    }

    /// The secrets a delivery at `now` is signed with (none: it goes unsigned).
    pub fn signing_secrets(&self, now: UnixTime) -> Vec<&Secret> {
        self.model
            .signing
            .as_ref()
            .map_or_else(Vec::new, |s| s.active(now))
    }

    /// The `webhook-id` of pending entry `seq`.
    pub fn webhook_id(&self, seq: Seq) -> Option<String> {
        let subscription = self.model.subscription.as_ref()?;
        let entry = self.model.pending.iter().find(|e| e.seq == seq)?;
        Some(signing::webhook_id(subscription.id, entry.message))
    }

    /// A new subscription offers `fresh` as its secret; a queue that has one keeps it (an
    /// identical `POST` gets the secret it got the first time). The secret in force.
    pub fn handle_secret_offered(&mut self, fresh: Secret) -> Result<Secret, Gone> {
        if !self.is_live() {
            return Err(Gone);
        }
        if let Some(signing) = &self.model.signing {
            return Ok(signing.current.clone());
        }
        let signing = Signing::new(fresh.clone());
        self.model.signing = Some(signing.clone());
        self.persist(Change::Signing(Box::new(signing)));
        Ok(fresh)
    }

    /// `POST …/secret/rotate`: `next` becomes the secret; the previous one still signs for a day.
    pub fn handle_rotate(&mut self, now: UnixTime, next: Secret) -> Result<Secret, Gone> {
        if !self.is_live() {
            return Err(Gone);
        }
        let signing = match self.model.signing.take() {
            Some(mut signing) => {
                signing.rotate(now, next.clone());
                signing
            }
            None => Signing::new(next.clone()),
        };
        self.model.signing = Some(signing.clone());
        self.persist(Change::Signing(Box::new(signing)));
        Ok(next)
    }

    /// `POST …/enable`: a disabled subscription resumes where it stopped (its head is due
    /// now). `Ok(false)`: it was not disabled.
    pub fn handle_enable(&mut self, now: UnixTime) -> Result<bool, Gone> {
        if !self.is_live() {
            return Err(Gone);
        }
        if self.model.health.disabled_at.is_none() {
            return Ok(false);
        }
        self.model.health.disabled_at = None;
        self.model.health.failing_since = None;
        self.persist(Change::Health(self.model.health));
        self.persist(Change::Note {
            activity: Activity::EndpointEnabled,
            detail: String::from("delivery resumed by the subscriber"),
            at: now,
        });
        if let Some(head) = self.model.pending.front_mut() {
            if !head.answered && head.next_at > now {
                head.next_at = now;
                let seq = head.seq;
                self.persist(Change::Resumed { seq, next_at: now });
            }
        }
        self.sync_alarm();
        Ok(true)
    }

    pub(super) fn note_success(&mut self, now: UnixTime) {
        let health = &mut self.model.health;
        health.last_success_at = Some(now);
        health.failing_since = None;
        self.persist(Change::Health(self.model.health));
    }

    /// A failed attempt; why delivery is now paused, if this failure disabled it.
    pub(super) fn note_failure(&mut self, now: UnixTime) -> Option<String> {
        let health = &mut self.model.health;
        health.last_failure_at = Some(now);
        let since = *health.failing_since.get_or_insert(now);
        let disable = health.disabled_at.is_none()
            && self
                .disable_after_ms
                .is_some_and(|after| now.as_millis().saturating_sub(since.as_millis()) >= after);
        let why = disable.then(|| {
            health.disabled_at = Some(now);
            format!(
                "endpoint disabled: every attempt since {} failed; delivery is paused until POST /subscriptions/{{id}}/enable",
                since.to_timestamp().format()
            )
        });
        self.persist(Change::Health(self.model.health));
        if let Some(why) = &why {
            self.persist(Change::Note {
                activity: Activity::EndpointDisabled,
                detail: why.clone(),
                at: now,
            });
        }
        why
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn record_attempt(
        &mut self,
        now: UnixTime,
        seq: Seq,
        message: i64,
        attempt: u32,
        attempted: &Attempted,
        next_attempt_at: Option<UnixTime>,
        note: Option<String>,
    ) {
        self.last_attempt_id = self.last_attempt_id.saturating_add(1);
        let id = self.last_attempt_id;
        let status = match attempted.outcome {
            Outcome::Answered(status) => Some(status),
            _ => None,
        };
        self.persist(Change::Attempt(Box::new(AttemptRecord {
            id,
            seq,
            message,
            attempt,
            at: now,
            outcome: AttemptOutcome::of(&attempted.outcome),
            status,
            latency_ms: attempted.latency_ms,
            response: attempted.response.clone(),
            next_attempt_at,
            note,
        })));
        if id % PRUNE_EVERY == 0 && id > KEEP_ATTEMPTS {
            self.persist(Change::PruneAttempts {
                through: id - KEEP_ATTEMPTS,
            });
        }
    }
}
