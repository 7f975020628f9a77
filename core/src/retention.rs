//! Retention (`EVENT_RETENTION_DAYS`): rows stored longer ago than the window are deleted by
//! the objects' alarms, in bounded batches, so no request pays for it. This module holds the rule;
//! the objects hold the rows (which tables, which rows are exempt) and the alarm.
//!
//! [`Sweeper`] is the schedule of one object, sans-IO: the object reports what it stores
//! ([`Sweeper::handle_stored`]) and how a sweep went ([`Sweeper::handle_swept`]); the sweeper says
//! when the next sweep is due ([`Sweeper::due`], kept by the object in a one-row table so it
//! survives an eviction) and what the sweep deletes ([`Sweeper::poll_sweep`]). The next sweep is
//! due when the oldest kept row expires; after a full batch, at once. An object's one alarm is
//! the earlier of its state machine's wish and the next sweep ([`Sweeper::alarm`]).

use alloc::format;
use alloc::string::String;

use crate::time::UnixTime;

/// Altinn's retention, in days.
pub const DEFAULT_RETENTION_DAYS: u32 = 90;
/// Most rows one sweep deletes (over all of an object's tables); a full batch runs the next
/// sweep at once.
pub const SWEEP_BATCH: u32 = 500;
/// The next sweep is never sooner than this after the last one ended with a short batch (rows
/// a sweep keeps on purpose cannot make sweeps run back to back).
pub const MIN_SWEEP_GAP_MS: i64 = 1_000;
/// When a sweep runs again after it failed on the platform.
pub const SWEEP_RETRY_MS: i64 = 30_000;
/// The longest window accepted (a hundred years).
const MAX_DAYS: f64 = 36_500.0;
const MS_PER_DAY: f64 = 86_400_000.0;

/// How long rows are kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retention {
    window_ms: i64,
}

impl Retention {
    /// A window of whole days.
    pub const fn days(days: u32) -> Retention {
        Retention {
            window_ms: days as i64 * 86_400_000,
        }
    }

    /// The window in milliseconds.
    pub fn window_ms(self) -> i64 {
        self.window_ms
    }

    /// Rows stored before this instant are past the window.
    pub fn cutoff(self, now: UnixTime) -> UnixTime {
        now.plus_millis(-self.window_ms)
    }

    /// When a row stored at `stored` is past the window.
    pub fn expiry(self, stored: UnixTime) -> UnixTime {
        stored.plus_millis(self.window_ms)
    }
}

impl Default for Retention {
    fn default() -> Retention {
        Retention::days(DEFAULT_RETENTION_DAYS)
    }
}

/// `EVENT_RETENTION_DAYS`: a decimal number of days above 0 (at most a hundred years, at least
/// a millisecond), such as `90` or `0.00005` (about 4.3 seconds).
pub fn parse_retention_days(value: &str) -> Result<Retention, String> {
    let bad = || format!("'{value}' is not a number of days above 0 (such as 90 or 0.00005)");
    let days = value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|d| d.is_finite() && *d > 0.0 && *d <= MAX_DAYS)
        .ok_or_else(bad)?;
    let window_ms = (days * MS_PER_DAY) as i64;
    if window_ms < 1 {
        return Err(bad());
    }
    Ok(Retention { window_ms })
}

/// One sweep: delete up to `limit` rows stored before `before`, oldest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sweep {
    pub before: UnixTime,
    pub limit: u32,
}

/// The sweep schedule of one object. See the module documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sweeper {
    retention: Retention,
    /// The next sweep (`None`: nothing stored that can expire).
    due: Option<UnixTime>,
    /// No schedule was ever written down: rows may predate it (stored before retention existed).
    unknown: bool,
}

impl Sweeper {
    /// The schedule as stored (`due`: the next sweep the object wrote down, if any).
    pub fn new(retention: Retention, due: Option<UnixTime>) -> Sweeper {
        Sweeper {
            retention,
            due,
            unknown: false,
        }
    }

    /// An object that never wrote a schedule down (new, or stored rows before retention
    /// existed): the first row it stores sweeps at once, for whatever rows are older.
    pub fn unknown(retention: Retention) -> Sweeper {
        Sweeper {
            retention,
            due: None,
            unknown: true,
        }
    }

    /// When the next sweep is due.
    pub fn due(&self) -> Option<UnixTime> {
        self.due
    }

    /// A row was stored at `at`. True when the next sweep moved earlier: the object writes the
    /// new [`Sweeper::due`] down and sets its alarm again. (Only the first row stored after the
    /// object was empty does that, or any row after the window was shortened.)
    pub fn handle_stored(&mut self, at: UnixTime) -> bool {
        if self.unknown {
            self.unknown = false;
            self.due = Some(at);
            return true;
        }
        let expiry = self.retention.expiry(at);
        if self.due.is_some_and(|due| due <= expiry) {
            return false;
        }
        self.due = Some(expiry);
        true
    }

    /// The sweep to run now, if one is due.
    pub fn poll_sweep(&self, now: UnixTime) -> Option<Sweep> {
        self.due.filter(|due| *due <= now).map(|_| Sweep {
            before: self.retention.cutoff(now),
            limit: SWEEP_BATCH,
        })
    }

    /// A sweep deleted `deleted` rows; `oldest` is the oldest row it would delete once expired
    /// (`None`: none left). A full batch sweeps again at once; otherwise when that row expires.
    pub fn handle_swept(&mut self, now: UnixTime, deleted: u32, oldest: Option<UnixTime>) {
        self.unknown = false;
        self.due = if deleted >= SWEEP_BATCH {
            Some(now)
        } else {
            oldest.map(|t| {
                self.retention
                    .expiry(t)
                    .max(now.plus_millis(MIN_SWEEP_GAP_MS))
            })
        };
    }

    /// A sweep failed, or could not run, on the platform: a due sweep tries again a little
    /// later (never sooner than [`SWEEP_RETRY_MS`] from `now`).
    pub fn handle_failed(&mut self, now: UnixTime) {
        self.due = self.due.map(|due| due.max(now.plus_millis(SWEEP_RETRY_MS)));
    }

    /// The object's alarm: the earlier of its state machine's wish (`machine`) and the next sweep.
    pub fn alarm(&self, machine: Option<UnixTime>) -> Option<UnixTime> {
        match (machine, self.due) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    const NOW: UnixTime = UnixTime::from_millis(1_735_725_600_000);
    const DAY: i64 = 86_400_000;

    fn at(ms: i64) -> UnixTime {
        NOW.plus_millis(ms)
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn the_setting_is_a_number_of_days_above_zero() {
        let ms = |v: &str| parse_retention_days(v).map(Retention::window_ms);
        assert_eq!(ms("90"), Ok(90 * DAY));
        assert_eq!(ms(" 1.5 "), Ok(DAY + DAY / 2));
        assert_eq!(ms("0.00005"), Ok(4_320));
        assert_eq!(Retention::default().window_ms(), 90 * DAY);
        for bad in ["0", "-1", "x", "", "NaN", "inf", "36501", "0.000000001"] {
            let err = parse_retention_days(bad).unwrap_err();
            assert!(
                err.contains("is not a number of days above 0"),
                "{bad}: {err}"
            );
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn rows_are_past_the_window_when_stored_before_the_cutoff() {
        let r = Retention::days(2);
        assert_eq!(r.cutoff(NOW), at(-2 * DAY));
        assert_eq!(r.expiry(NOW), at(2 * DAY));
        assert_eq!(r.cutoff(r.expiry(NOW)), NOW);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn the_first_row_stored_schedules_the_first_sweep() {
        let mut s = Sweeper::new(Retention::days(1), None);
        assert_eq!(s.poll_sweep(NOW), None);
        assert!(s.handle_stored(NOW));
        assert_eq!(s.due(), Some(at(DAY)));
        // Later rows expire later: nothing changes, nothing to write.
        assert!(!s.handle_stored(at(5)));
        assert_eq!(s.due(), Some(at(DAY)));
        assert_eq!(s.poll_sweep(at(DAY - 1)), None);
        assert_eq!(
            s.poll_sweep(at(DAY)),
            Some(Sweep {
                before: NOW,
                limit: SWEEP_BATCH
            })
        );
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn an_object_without_a_schedule_sweeps_at_its_first_row() {
        // Rows stored before retention existed are swept without waiting a whole window.
        let mut s = Sweeper::unknown(Retention::days(1));
        assert_eq!((s.due(), s.poll_sweep(NOW)), (None, None));
        assert!(s.handle_stored(NOW));
        assert_eq!(s.due(), Some(NOW));
        assert!(s.poll_sweep(NOW).is_some());
        s.handle_swept(NOW, 0, Some(NOW));
        assert_eq!(s.due(), Some(at(DAY)));
        assert!(!s.handle_stored(at(1)));
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn a_shorter_window_than_the_stored_schedule_moves_the_sweep_earlier() {
        let mut s = Sweeper::new(Retention::days(1), Some(at(90 * DAY)));
        assert!(s.handle_stored(NOW));
        assert_eq!(s.due(), Some(at(DAY)));
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn after_a_sweep_the_next_is_due_when_the_oldest_kept_row_expires() {
        let mut s = Sweeper::new(Retention::days(1), Some(NOW));
        s.handle_swept(NOW, 3, Some(at(-DAY + 60_000)));
        assert_eq!(s.due(), Some(at(60_000)));
        s.handle_swept(NOW, 0, None);
        assert_eq!(s.due(), None);
        assert_eq!(s.poll_sweep(at(100 * DAY)), None);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn a_full_batch_sweeps_again_at_once() {
        let mut s = Sweeper::new(Retention::days(1), Some(NOW));
        s.handle_swept(NOW, SWEEP_BATCH, Some(at(-2 * DAY)));
        assert_eq!(s.due(), Some(NOW));
        assert!(s.poll_sweep(NOW).is_some());
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn rows_kept_on_purpose_never_make_sweeps_run_back_to_back() {
        // The oldest row the sweep may delete expired already (a row it had to keep, or a
        // clock step): the next sweep still waits a moment.
        let mut s = Sweeper::new(Retention::days(1), Some(NOW));
        s.handle_swept(NOW, 2, Some(at(-3 * DAY)));
        assert_eq!(s.due(), Some(at(MIN_SWEEP_GAP_MS)));
        s.handle_failed(NOW);
        assert_eq!(s.due(), Some(at(SWEEP_RETRY_MS)));
        // A later sweep stays where it is; no sweep stays none.
        let mut s = Sweeper::new(Retention::days(1), Some(at(DAY)));
        s.handle_failed(NOW);
        assert_eq!(s.due(), Some(at(DAY)));
        let mut s = Sweeper::new(Retention::days(1), None);
        s.handle_failed(NOW);
        assert_eq!(s.due(), None);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn the_alarm_is_the_earlier_of_the_machine_and_the_sweep() {
        let s = Sweeper::new(Retention::days(1), Some(at(10)));
        assert_eq!(s.alarm(None), Some(at(10)));
        assert_eq!(s.alarm(Some(at(5))), Some(at(5)));
        assert_eq!(s.alarm(Some(at(20))), Some(at(10)));
        let idle = Sweeper::new(Retention::days(1), None);
        assert_eq!(idle.alarm(None), None);
        assert_eq!(idle.alarm(Some(at(20))), Some(at(20)));
    }
}
