//! The `EventLog`'s retention (`EVENT_RETENTION_DAYS`): events and trace rows stored longer ago
//! than the window are deleted by the alarm, a bounded batch at a time
//! ([`crate::objects::retention`]). Outbox rows stay whatever their age: an event still being
//! handed to its subscriptions is not lost.

use events_core::time::UnixTime;

use super::EventLog;
use crate::error::Error;
use crate::objects::retention::Swept;

/// What a sweep deletes here, oldest first.
const SWEPT: [Swept; 2] = [
    Swept {
        table: "events",
        key: "seq",
        column: "registered",
        keep: "",
    },
    Swept {
        table: "trace",
        key: "seq",
        column: "time",
        keep: "",
    },
];

impl EventLog {
    /// A row was stored at `at`: true when that scheduled an earlier sweep (set the alarm again).
    pub(super) fn stored_row(&self, at: UnixTime) -> Result<bool, Error> {
        self.sweeps
            .handle_stored(&self.state.storage().sql(), &self.env, at)
    }

    /// Sweep if a sweep is due; the caller sets the alarm afterwards.
    pub(super) fn sweep(&self, now: UnixTime) -> Result<(), Error> {
        let sql = self.state.storage().sql();
        self.sweeps.sweep(&sql, &self.env, now, &SWEPT).map(|_| ())
    }
}
