//! The `Delivery` object's rows for what subscribers see and control: the attempt log, the
//! endpoint's health and the signing secrets; and the signed POST's headers (HMAC by WebCrypto).

use events_core::delivery_queue::{
    AttemptQuery, AttemptRecord, Health, StoredAttemptRow, StoredHealth,
};
use events_core::signing::{self, Secret, Signing};
use events_core::time::UnixTime;
use serde::{Deserialize, Serialize};
use worker::{Headers, SqlStorageValue};

use super::{corrupt, Delivery};
use crate::auth::webcrypto;
use crate::error::Error;

/// The subscription's health as the API shows it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthView {
    pub status: String,
    pub last_success_at: Option<String>,
    pub last_failure_at: Option<String>,
    pub failing_since: Option<String>,
    pub queued: usize,
    pub dead_letters: usize,
}

impl HealthView {
    pub fn new(health: Health, queued: usize, dead_letters: usize) -> HealthView {
        let iso = |t: Option<UnixTime>| t.map(|t| t.to_timestamp().format());
        HealthView {
            status: if health.disabled_at.is_some() {
                "disabled"
            } else {
                "active"
            }
            .to_owned(),
            last_success_at: iso(health.last_success_at),
            last_failure_at: iso(health.last_failure_at),
            failing_since: iso(health.failing_since),
            queued,
            dead_letters,
        }
    }
}

/// One attempt as the API shows it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttemptView {
    pub event_id: String,
    pub attempt: i64,
    pub time: String,
    pub outcome: events_core::delivery_queue::AttemptOutcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_code: Option<i64>,
    pub latency_ms: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A page of the attempt log (object → route): the rows and the cursor of the next page.
#[derive(Debug, Serialize, Deserialize)]
pub struct AttemptPage {
    pub attempts: Vec<AttemptView>,
    pub next_after: Option<i64>,
}

fn iso(ms: i64) -> String {
    UnixTime::from_millis(ms).to_timestamp().format()
}

impl Delivery {
    /// The health row, the signing row and the last attempt id.
    pub(super) fn load_control(&self) -> Result<(Health, Option<Signing>, i64), Error> {
        #[derive(Deserialize)]
        struct SigningRow {
            secret: String,
            previous: Option<String>,
            previous_until: Option<i64>,
        }
        #[derive(Deserialize)]
        struct Last {
            last: Option<i64>,
        }
        let health: Vec<StoredHealth> = self.rows(
            "SELECT last_success, last_failure, failing_since, disabled_at FROM health WHERE k = 1",
            vec![],
        )?;
        let health = health
            .into_iter()
            .next()
            .map(Health::from)
            .unwrap_or_default();
        let signing: Vec<SigningRow> = self.rows(
            "SELECT secret, previous, previous_until FROM signing WHERE k = 1",
            vec![],
        )?;
        let secret = |text: &str| Secret::parse(text).map_err(|e| corrupt(format!("signing: {e}")));
        let signing = match signing.into_iter().next() {
            None => None,
            Some(row) => Some(Signing {
                current: secret(&row.secret)?,
                previous: match (row.previous, row.previous_until) {
                    (Some(p), Some(until)) => Some((secret(&p)?, UnixTime::from_millis(until))),
                    (None, None) => None,
                    _ => return Err(corrupt("signing: a previous secret without its end")),
                },
            }),
        };
        let last: Vec<Last> = self.rows("SELECT MAX(id) AS last FROM attempts", vec![])?;
        let last = last.into_iter().next().and_then(|l| l.last).unwrap_or(0);
        Ok((health, signing, last))
    }

    pub(super) fn save_attempt(&self, a: &AttemptRecord) -> Result<(), Error> {
        let opt_ms = |t: Option<UnixTime>| SqlStorageValue::from(t.map(UnixTime::as_millis));
        self.exec(
            "INSERT INTO attempts (id, seq, msg, event_id, attempt, time, outcome, status, latency_ms, response, next_at, note)
             SELECT ?, seq, ?, event_id, ?, ?, ?, ?, ?, ?, ?, ? FROM queue WHERE seq = ?",
            vec![
                a.id.into(),
                a.message.into(),
                i64::from(a.attempt).into(),
                a.at.as_millis().into(),
                a.outcome.as_str().into(),
                a.status.map(i64::from).into(),
                i64::from(a.latency_ms).into(),
                a.response.clone().into(),
                opt_ms(a.next_attempt_at),
                a.note.clone().into(),
                a.seq.0.into(),
            ],
        )
    }

    pub(super) fn prune_attempts(&self, through: i64) -> Result<(), Error> {
        self.exec(
            "DELETE FROM attempts WHERE id <= ? AND msg NOT IN
             (SELECT msg FROM queue WHERE state = 0 UNION SELECT msg FROM dead_letters)",
            vec![through.into()],
        )
    }

    pub(super) fn save_health(&self, health: Health) -> Result<(), Error> {
        let h = StoredHealth::from(health);
        self.exec(
            "INSERT INTO health (k, last_success, last_failure, failing_since, disabled_at) VALUES (1, ?, ?, ?, ?)
             ON CONFLICT (k) DO UPDATE SET last_success = excluded.last_success, last_failure = excluded.last_failure,
             failing_since = excluded.failing_since, disabled_at = excluded.disabled_at",
            vec![h.last_success.into(), h.last_failure.into(), h.failing_since.into(), h.disabled_at.into()],
        )
    }

    pub(super) fn save_signing(&self, signing: &Signing) -> Result<(), Error> {
        let (previous, until) = match &signing.previous {
            Some((secret, until)) => (Some(secret.as_str().to_owned()), Some(until.as_millis())),
            None => (None, None),
        };
        self.exec(
            "INSERT INTO signing (k, secret, previous, previous_until) VALUES (1, ?, ?, ?)
             ON CONFLICT (k) DO UPDATE SET secret = excluded.secret, previous = excluded.previous,
             previous_until = excluded.previous_until",
            vec![
                signing.current.as_str().into(),
                previous.into(),
                until.into(),
            ],
        )
    }

    pub(super) fn attempt_page(&self, q: AttemptQuery) -> Result<AttemptPage, Error> {
        let rows: Vec<StoredAttemptRow> = self.rows(
            "SELECT id, event_id, attempt, time, outcome, status, latency_ms, response, next_at, note
             FROM attempts WHERE id > ? ORDER BY id LIMIT ?",
            vec![q.after.into(), i64::from(q.size).into()],
        )?;
        let next_after = q.next_after(&rows);
        let attempts = rows
            .into_iter()
            .map(|r| AttemptView {
                event_id: r.event_id,
                attempt: r.attempt,
                time: iso(r.time),
                outcome: r.outcome,
                status_code: r.status,
                latency_ms: r.latency_ms,
                response: r.response,
                next_attempt_at: r.next_at.map(iso),
                note: r.note,
            })
            .collect();
        Ok(AttemptPage {
            attempts,
            next_after,
        })
    }
}

/// The Standard Webhooks headers of one attempt of message `id` at `now`, signed with each of
/// `secrets` (none: unsigned, only the id and the timestamp).
pub(super) async fn signature_headers(
    headers: &Headers,
    id: &str,
    now: UnixTime,
    body: &str,
    secrets: &[Secret],
) -> Result<(), Error> {
    let timestamp = signing::timestamp(now);
    let content = signing::signed_content(id, &timestamp, body);
    let mut macs = Vec::with_capacity(secrets.len());
    for secret in secrets {
        let mac = webcrypto::hmac_sha256(secret.key(), content.as_bytes())
            .await
            .map_err(|e| Error::platform("Could not sign the webhook", e))?;
        macs.push(mac);
    }
    let set = |name: &str, value: &str| {
        headers
            .set(name, value)
            .map_err(|e| Error::platform("Could not set a webhook header", e))
    };
    set(signing::HEADER_ID, id)?;
    set(signing::HEADER_TIMESTAMP, &timestamp)?;
    if !macs.is_empty() {
        set(signing::HEADER_SIGNATURE, &signing::signature_header(&macs))?;
    }
    Ok(())
}
