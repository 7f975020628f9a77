//! `SubscriptionDirectory`: the control plane of subscriptions. It owns their existence: it
//! hands out Altinn's integer ids and answers "by id" and "by consumer". It is one object:
//! subscription management is rare next to publishing and delivery. Publishing never touches
//! it (matching lives in each resource's `EventLog`); `validated` is owned by each
//! subscription's `Delivery`, which copies it here once it changes (`/validate`).

use events_core::subscription::{Draft, Subscription, SubscriptionId};
use serde::{Deserialize, Serialize};
use worker::{durable_object, Env, Method, Request, Response, SqlStorage, SqlStorageValue, State};

use crate::error::Error;

use super::{body_json, decode_rows, reply, reply_json, sql_error};

/// The one directory object's name.
pub const NAME: &str = "directory";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS subscriptions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  end_point TEXT NOT NULL,
  source_filter TEXT,
  resource_filter TEXT NOT NULL,
  subject_filter TEXT,
  type_filter TEXT,
  consumer TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created TEXT NOT NULL,
  validated INTEGER NOT NULL DEFAULT 0,
  include_subunits INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS subscriptions_by_consumer ON subscriptions (consumer, id);
CREATE INDEX IF NOT EXISTS subscriptions_by_resource ON subscriptions (resource_filter, consumer);
";

const COLUMNS: &str = "id, end_point, source_filter, resource_filter, subject_filter, type_filter, consumer, created_by, created, validated, include_subunits";

#[derive(Debug, Serialize, Deserialize)]
pub struct CreateRequest {
    pub draft: Draft,
    pub created: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct CreateReply {
    pub subscription: Subscription,
    /// False when an identical subscription existed and is returned instead.
    pub is_new: bool,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ListRequest {
    pub consumer: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct IdRequest {
    pub id: SubscriptionId,
}

#[durable_object]
pub struct SubscriptionDirectory {
    state: State,
    #[allow(dead_code)]
    env: Env,
}

/// A stored subscription, read by column name.
#[derive(Deserialize)]
struct Row {
    id: i64,
    end_point: String,
    source_filter: Option<String>,
    resource_filter: String,
    subject_filter: Option<String>,
    type_filter: Option<String>,
    consumer: String,
    created_by: String,
    created: String,
    validated: i64,
    include_subunits: i64,
}

impl Row {
    fn into_subscription(self) -> Result<Subscription, Error> {
        let flag = |name: &str, v: i64| match v {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(Error::corrupt(format_args!(
                "subscription {}: {name} is {v}",
                self.id
            ))),
        };
        Ok(Subscription {
            validated: flag("validated", self.validated)?,
            include_subunits: flag("include_subunits", self.include_subunits)?,
            id: SubscriptionId(self.id),
            end_point: self.end_point,
            source_filter: self.source_filter,
            resource_filter: self.resource_filter,
            subject_filter: self.subject_filter,
            type_filter: self.type_filter,
            consumer: self.consumer,
            created_by: self.created_by,
            created: self.created,
        })
    }
}

impl SubscriptionDirectory {
    fn sql(&self) -> SqlStorage {
        self.state.storage().sql()
    }

    fn select(
        &self,
        where_clause: &str,
        args: Vec<SqlStorageValue>,
    ) -> Result<Vec<Subscription>, Error> {
        let query = format!("SELECT {COLUMNS} FROM subscriptions {where_clause}");
        decode_rows::<Row>(&self.sql(), &query, args)?
            .into_iter()
            .map(Row::into_subscription)
            .collect()
    }

    fn by_id(&self, id: SubscriptionId) -> Result<Option<Subscription>, Error> {
        Ok(self
            .select("WHERE id = ?", vec![id.0.into()])?
            .into_iter()
            .next())
    }

    /// Duplicate detection (spec §8.5 step 2): every filter, the consumer, the endpoint and
    /// `includeSubunits` equal (null matches null); validation state is ignored.
    fn create(&self, req: CreateRequest) -> Result<CreateReply, Error> {
        let d = &req.draft;
        let existing = self.select(
            "WHERE resource_filter = ? AND source_filter IS ? AND subject_filter IS ? AND type_filter IS ?
               AND consumer = ? AND end_point = ? AND include_subunits = ? ORDER BY id LIMIT 1",
            vec![
                d.resource_filter.clone().into(),
                d.source_filter.clone().into(),
                d.subject_filter.clone().into(),
                d.type_filter.clone().into(),
                d.consumer.clone().into(),
                d.end_point.clone().into(),
                (d.include_subunits as i64).into(),
            ],
        )?;
        if let Some(subscription) = existing.into_iter().next() {
            return Ok(CreateReply {
                subscription,
                is_new: false,
            });
        }
        let inserted = decode_rows::<Row>(
            &self.sql(),
            &format!(
                "INSERT INTO subscriptions (end_point, source_filter, resource_filter, subject_filter, type_filter, consumer, created_by, created, validated, include_subunits)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?) RETURNING {COLUMNS}"
            ),
            vec![
                d.end_point.clone().into(),
                d.source_filter.clone().into(),
                d.resource_filter.clone().into(),
                d.subject_filter.clone().into(),
                d.type_filter.clone().into(),
                d.consumer.clone().into(),
                d.consumer.clone().into(),
                req.created.clone().into(),
                (d.include_subunits as i64).into(),
            ],
        )?;
        let row = inserted.into_iter().next().ok_or_else(|| {
            Error::platform("The subscription could not be stored", "no row returned")
        })?;
        Ok(CreateReply {
            subscription: row.into_subscription()?,
            is_new: true,
        })
    }

    async fn handle(&self, req: &mut Request) -> Result<Response, Error> {
        let path = req.path();
        match (req.method(), path.as_str()) {
            (Method::Post, "/create") => {
                let r: CreateRequest = body_json(req).await?;
                reply_json(&self.create(r)?)
            }
            (Method::Post, "/get") => {
                let r: IdRequest = body_json(req).await?;
                match self.by_id(r.id)? {
                    Some(s) => reply_json(&s),
                    None => Err(Error::NotFound),
                }
            }
            (Method::Post, "/list") => {
                let r: ListRequest = body_json(req).await?;
                let subs =
                    self.select("WHERE consumer = ? ORDER BY id", vec![r.consumer.into()])?;
                reply_json(&subs)
            }
            (Method::Post, "/delete") => {
                let r: IdRequest = body_json(req).await?;
                let Some(s) = self.by_id(r.id)? else {
                    return Err(Error::NotFound);
                };
                self.sql()
                    .exec(
                        "DELETE FROM subscriptions WHERE id = ?",
                        vec![r.id.0.into()],
                    )
                    .map_err(sql_error)?;
                reply_json(&s)
            }
            (Method::Post, "/validate") => {
                // Returns the subscription as it was before (as Altinn does).
                let r: IdRequest = body_json(req).await?;
                let Some(s) = self.by_id(r.id)? else {
                    return Err(Error::NotFound);
                };
                self.sql()
                    .exec(
                        "UPDATE subscriptions SET validated = 1 WHERE id = ?",
                        vec![r.id.0.into()],
                    )
                    .map_err(sql_error)?;
                reply_json(&s)
            }
            _ => Err(Error::NotFound),
        }
    }
}

impl worker::DurableObject for SubscriptionDirectory {
    fn new(state: State, env: Env) -> Self {
        if let Err(e) = state.storage().sql().exec(SCHEMA, None) {
            worker::console_error!("SubscriptionDirectory schema: {e}");
        }
        SubscriptionDirectory { state, env }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        reply(self.handle(&mut req).await)
    }
}
