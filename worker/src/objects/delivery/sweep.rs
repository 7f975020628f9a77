//! The `Delivery` object's retention (`EVENT_RETENTION_DAYS`): rows stored longer ago than the
//! window are deleted by the alarm, a bounded batch at a time ([`crate::objects::retention`]).
//!
//! - trace rows (by their time);
//! - attempt-log rows (by their time), except those of messages still queued and the newest row
//!   (attempt ids keep counting from it);
//! - dead letters (by when they became one), and finished queue rows (delivered, cancelled or
//!   dead, by when they finished: their keys make a repeated hand-off a no-op only this long).
//!
//! Pending queue rows stay whatever their age: nothing queued for delivery is removed.

use events_core::time::UnixTime;

use super::Delivery;
use crate::error::Error;
use crate::objects::retention::Swept;

/// What a sweep deletes here, in this order. (`state = 0`: pending.)
const SWEPT: [Swept; 4] = [
    Swept {
        table: "trace",
        key: "seq",
        column: "time",
        keep: "",
    },
    Swept {
        table: "attempts",
        key: "id",
        column: "time",
        keep: "AND msg NOT IN (SELECT msg FROM queue WHERE state = 0)
               AND id < (SELECT MAX(id) FROM attempts)",
    },
    Swept {
        table: "dead_letters",
        key: "seq",
        column: "failed",
        keep: "",
    },
    Swept {
        table: "queue",
        key: "seq",
        column: "finished",
        keep: "AND state <> 0",
    },
];

impl Delivery {
    /// A row was stored at `at`: true when that scheduled an earlier sweep (set the alarm again).
    pub(super) fn stored_row(&self, at: UnixTime) -> Result<bool, Error> {
        self.sweeps
            .handle_stored(&self.state.storage().sql(), &self.env, at)
    }

    /// Sweep if a sweep is due; the caller sets the alarm afterwards.
    pub(super) fn sweep(&self, now: UnixTime) -> Result<(), Error> {
        let sql = self.state.storage().sql();
        if self.sweeps.sweep(&sql, &self.env, now, &SWEPT)? > 0 {
            // Dead letters and finished entries are part of the queue's model: rebuild it.
            self.queue.replace(None);
        }
        Ok(())
    }
}
