//! `Party`: the party register, one Durable Object per look-up key (`party:{id}`,
//! `uuid:{uuid}`, `orgno:{number}`, `person:{number}`), each holding a copy of the entry so
//! any look-up is one call. Entries are written through `PUT /admin/parties/{id}`.

use worker::{durable_object, Env, Method, Request, Response, SqlStorageValue, State};

use events_core::ApiError;

use super::{reply, sql_error};
use crate::http;

const SCHEMA: &str =
    "CREATE TABLE IF NOT EXISTS record (k INTEGER PRIMARY KEY CHECK (k = 1), json TEXT NOT NULL);";

#[durable_object]
pub struct Party {
    state: State,
    #[allow(dead_code)]
    env: Env,
}

impl Party {
    fn read(&self) -> Result<Option<String>, ApiError> {
        let rows: Vec<Vec<SqlStorageValue>> = self
            .state
            .storage()
            .sql()
            .exec("SELECT json FROM record WHERE k = 1", None)
            .map_err(sql_error)?
            .raw()
            .collect::<worker::Result<_>>()
            .map_err(sql_error)?;
        Ok(rows.first().and_then(|r| match r.first() {
            Some(SqlStorageValue::String(s)) => Some(s.clone()),
            _ => None,
        }))
    }

    async fn handle(&self, req: &mut Request) -> Result<Response, ApiError> {
        let sql = self.state.storage().sql();
        match req.method() {
            Method::Get => match self.read()? {
                Some(json) => http::json(200, json),
                None => Err(ApiError::not_found()),
            },
            Method::Put => {
                let body = req
                    .text()
                    .await
                    .map_err(|e| http::platform_error("read", e))?;
                let existed = self.read()?.is_some();
                sql.exec(
                    "INSERT INTO record (k, json) VALUES (1, ?) ON CONFLICT (k) DO UPDATE SET json = excluded.json",
                    vec![body.into()],
                )
                .map_err(sql_error)?;
                http::empty(if existed { 200 } else { 201 })
            }
            Method::Delete => {
                sql.exec("DELETE FROM record WHERE k = 1", None)
                    .map_err(sql_error)?;
                http::empty(204)
            }
            _ => Err(ApiError::not_found()),
        }
    }
}

impl worker::DurableObject for Party {
    fn new(state: State, env: Env) -> Self {
        if let Err(e) = state.storage().sql().exec(SCHEMA, None) {
            worker::console_error!("Party schema: {e}");
        }
        Party { state, env }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        reply(self.handle(&mut req).await)
    }
}
