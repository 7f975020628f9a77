//! Retention in the objects (`EVENT_RETENTION_DAYS`): the driver of core's [`Sweeper`], shared by
//! `EventLog`, `Party` and `Delivery`. Each object keeps its next sweep in memory and in the
//! one-row `retention` table (so an eviction does not lose it), deletes its own expired rows in a
//! sweep with [`delete_before`], and reports the oldest row it could delete next with [`oldest`].
//! The object's one alarm is set with [`set_alarm`] to what [`Sweeper::alarm`] says.

use std::cell::RefCell;

use events_core::retention::{Sweep, Sweeper};
use events_core::time::UnixTime;
use serde::Deserialize;
use worker::{Env, ScheduledTime, SqlStorage, Storage};

use super::decode_rows;
use crate::config;
use crate::error::Error;

/// The next sweep as written down (`due`: unix ms; NULL: nothing to sweep).
pub const SCHEMA: &str =
    "CREATE TABLE IF NOT EXISTS retention (k INTEGER PRIMARY KEY CHECK (k = 1), due INTEGER);";

/// An object's sweep schedule, read from its `retention` row on first use.
#[derive(Default)]
pub struct Sweeps(RefCell<Option<Sweeper>>);

impl Sweeps {
    /// The schedule (loaded from the setting and the stored row when not in memory).
    pub fn get(&self, sql: &SqlStorage, env: &Env) -> Result<Sweeper, Error> {
        if let Some(sweeper) = *self.0.borrow() {
            return Ok(sweeper);
        }
        #[derive(Deserialize)]
        struct Row {
            due: Option<i64>,
        }
        let cfg = config::load(env)?;
        let rows: Vec<Row> = decode_rows(sql, "SELECT due FROM retention WHERE k = 1", vec![])?;
        let sweeper = match rows.into_iter().next() {
            Some(row) => Sweeper::new(cfg.retention, row.due.map(UnixTime::from_millis)),
            None => Sweeper::unknown(cfg.retention),
        };
        *self.0.borrow_mut() = Some(sweeper);
        Ok(sweeper)
    }

    /// Change the schedule and write it down.
    fn update(
        &self,
        sql: &SqlStorage,
        env: &Env,
        change: impl FnOnce(&mut Sweeper) -> bool,
    ) -> Result<bool, Error> {
        let mut sweeper = self.get(sql, env)?;
        if !change(&mut sweeper) {
            return Ok(false);
        }
        let due = sweeper.due().map(UnixTime::as_millis);
        let written = sql
            .exec(
                "INSERT INTO retention (k, due) VALUES (1, ?) ON CONFLICT (k) DO UPDATE SET due = excluded.due",
                vec![due.into()],
            )
            .map_err(super::sql_error);
        match written {
            Ok(_) => {
                *self.0.borrow_mut() = Some(sweeper);
                Ok(true)
            }
            Err(e) => {
                self.0.replace(None);
                Err(e)
            }
        }
    }

    /// A row was stored at `at`. True when the next sweep moved earlier (set the alarm again).
    pub fn handle_stored(&self, sql: &SqlStorage, env: &Env, at: UnixTime) -> Result<bool, Error> {
        self.update(sql, env, |s| s.handle_stored(at))
    }

    /// The sweep due now, if any.
    pub fn poll_sweep(
        &self,
        sql: &SqlStorage,
        env: &Env,
        now: UnixTime,
    ) -> Result<Option<Sweep>, Error> {
        Ok(self.get(sql, env)?.poll_sweep(now))
    }

    /// How a sweep went (see [`Sweeper::handle_swept`]).
    pub fn handle_swept(
        &self,
        sql: &SqlStorage,
        env: &Env,
        now: UnixTime,
        deleted: u32,
        oldest: Option<UnixTime>,
    ) -> Result<(), Error> {
        self.update(sql, env, |s| {
            s.handle_swept(now, deleted, oldest);
            true
        })
        .map(|_| ())
    }

    /// Sweep `tables` if a sweep is due now, and record how it went: the rows deleted (the
    /// caller sets the alarm afterwards).
    pub fn sweep(
        &self,
        sql: &SqlStorage,
        env: &Env,
        now: UnixTime,
        tables: &[Swept],
    ) -> Result<u32, Error> {
        let Some(sweep) = self.poll_sweep(sql, env, now)? else {
            return Ok(0);
        };
        let (deleted, oldest) = sweep_tables(sql, tables, sweep)?;
        self.handle_swept(sql, env, now, deleted, oldest)?;
        Ok(deleted)
    }

    /// A sweep failed: the next try, in memory only (storage may be what failed).
    pub fn handle_failed(&self, now: UnixTime) {
        if let Some(sweeper) = self.0.borrow_mut().as_mut() {
            sweeper.handle_failed(now);
        }
    }

    /// The object's alarm for the machine's wish `machine` (see [`Sweeper::alarm`]).
    pub fn alarm(
        &self,
        sql: &SqlStorage,
        env: &Env,
        machine: Option<UnixTime>,
    ) -> Result<Option<UnixTime>, Error> {
        Ok(self.get(sql, env)?.alarm(machine))
    }
}

/// Set the object's alarm (`None`: delete it).
pub async fn set_alarm(storage: &Storage, at: Option<UnixTime>) -> Result<(), Error> {
    match at {
        Some(at) => {
            let date = js_sys::Date::new(&(at.as_millis() as f64).into());
            storage.set_alarm(ScheduledTime::new(date)).await
        }
        None => storage.delete_alarm().await,
    }
    .map_err(|e| Error::platform("Could not schedule background work", e))
}

/// Rows of a table a sweep may delete: `column` holds when the row was stored (unix ms, indexed),
/// `key` is its primary key, and `keep` (SQL, empty or starting with `AND`) exempts rows.
pub struct Swept<'a> {
    pub table: &'a str,
    pub key: &'a str,
    pub column: &'a str,
    pub keep: &'a str,
}

/// Delete up to `limit` rows stored before `before`, oldest first; the number deleted.
pub fn delete_before(
    sql: &SqlStorage,
    rows: &Swept,
    before: UnixTime,
    limit: u32,
) -> Result<u32, Error> {
    if limit == 0 {
        return Ok(0);
    }
    let Swept {
        table,
        key,
        column,
        keep,
    } = rows;
    let query = format!(
        "DELETE FROM {table} WHERE {key} IN
         (SELECT {key} FROM {table} WHERE {column} < ? {keep} ORDER BY {column} LIMIT ?)
         RETURNING {key}"
    );
    let cursor = sql
        .exec(
            &query,
            vec![before.as_millis().into(), i64::from(limit).into()],
        )
        .map_err(super::sql_error)?;
    // Counted from the rows returned: `rows_written` also counts index entries.
    let mut deleted = 0u32;
    for row in cursor.raw() {
        row.map_err(super::sql_error)?;
        deleted = deleted.saturating_add(1);
    }
    Ok(deleted)
}

/// When the oldest row a sweep may delete was stored (`None`: there is none).
pub fn oldest(sql: &SqlStorage, rows: &Swept) -> Result<Option<UnixTime>, Error> {
    #[derive(Deserialize)]
    struct Row {
        t: Option<i64>,
    }
    let Swept {
        table,
        column,
        keep,
        ..
    } = rows;
    let query = format!("SELECT MIN({column}) AS t FROM {table} WHERE {column} IS NOT NULL {keep}");
    let rows: Vec<Row> = decode_rows(sql, &query, vec![])?;
    Ok(rows
        .into_iter()
        .next()
        .and_then(|r| r.t)
        .map(UnixTime::from_millis))
}

/// Sweep `tables` in order within one batch: the rows deleted and the oldest row left to sweep.
pub fn sweep_tables(
    sql: &SqlStorage,
    tables: &[Swept],
    sweep: Sweep,
) -> Result<(u32, Option<UnixTime>), Error> {
    let mut deleted = 0u32;
    let mut oldest_left: Option<UnixTime> = None;
    for rows in tables {
        deleted += delete_before(sql, rows, sweep.before, sweep.limit - deleted)?;
        if let Some(t) = oldest(sql, rows)? {
            oldest_left = Some(oldest_left.map_or(t, |o| o.min(t)));
        }
    }
    Ok((deleted, oldest_left))
}
