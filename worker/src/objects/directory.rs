//! `SubscriptionDirectory`: the control plane of subscriptions. It owns their existence: it
//! hands out Altinn's integer ids and answers "by id" and "by consumer". It is one object:
//! subscription management is rare next to publishing and delivery. Publishing never touches
//! it (matching lives in each resource's `EventLog`); `validated` is owned by each
//! subscription's `Delivery`, which copies it here once it changes (`/validate`).

use events_core::subscription::{Draft, Subscription};
use events_core::ApiError;
use serde::{Deserialize, Serialize};
use worker::{durable_object, Env, Method, Request, Response, SqlStorage, SqlStorageValue, State};

use super::{body_json, int, reply, reply_json, sql_error, text};

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
    pub id: i64,
}

#[durable_object]
pub struct SubscriptionDirectory {
    state: State,
    #[allow(dead_code)]
    env: Env,
}

fn row_to_subscription(r: &[SqlStorageValue]) -> Subscription {
    Subscription {
        id: int(r.first()),
        end_point: text(r.get(1)).unwrap_or_default(),
        source_filter: text(r.get(2)),
        resource_filter: text(r.get(3)).unwrap_or_default(),
        subject_filter: text(r.get(4)),
        type_filter: text(r.get(5)),
        consumer: text(r.get(6)).unwrap_or_default(),
        created_by: text(r.get(7)).unwrap_or_default(),
        created: text(r.get(8)).unwrap_or_default(),
        validated: int(r.get(9)) != 0,
        include_subunits: int(r.get(10)) != 0,
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
    ) -> Result<Vec<Subscription>, ApiError> {
        let query = format!("SELECT {COLUMNS} FROM subscriptions {where_clause}");
        let mut out = Vec::new();
        for row in self.sql().exec(&query, args).map_err(sql_error)?.raw() {
            out.push(row_to_subscription(&row.map_err(sql_error)?));
        }
        Ok(out)
    }

    fn by_id(&self, id: i64) -> Result<Option<Subscription>, ApiError> {
        Ok(self
            .select("WHERE id = ?", vec![id.into()])?
            .into_iter()
            .next())
    }

    /// Duplicate detection (spec §8.5 step 2): every filter, the consumer, the endpoint and
    /// `includeSubunits` equal (null matches null); validation state is ignored.
    fn create(&self, req: CreateRequest) -> Result<CreateReply, ApiError> {
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
        let cursor = self
            .sql()
            .exec(
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
            )
            .map_err(sql_error)?;
        let row = cursor
            .raw()
            .next()
            .ok_or_else(|| {
                ApiError::unavailable("The subscription could not be stored. Please retry.")
            })?
            .map_err(sql_error)?;
        Ok(CreateReply {
            subscription: row_to_subscription(&row),
            is_new: true,
        })
    }

    async fn handle(&self, req: &mut Request) -> Result<Response, ApiError> {
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
                    None => Err(ApiError::not_found()),
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
                    return Err(ApiError::not_found());
                };
                self.sql()
                    .exec("DELETE FROM subscriptions WHERE id = ?", vec![r.id.into()])
                    .map_err(sql_error)?;
                reply_json(&s)
            }
            (Method::Post, "/validate") => {
                // Returns the subscription as it was before (as Altinn does).
                let r: IdRequest = body_json(req).await?;
                let Some(s) = self.by_id(r.id)? else {
                    return Err(ApiError::not_found());
                };
                self.sql()
                    .exec(
                        "UPDATE subscriptions SET validated = 1 WHERE id = ?",
                        vec![r.id.into()],
                    )
                    .map_err(sql_error)?;
                reply_json(&s)
            }
            _ => Err(ApiError::not_found()),
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
