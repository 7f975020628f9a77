//! What the sans-IO state machines of this crate ([`crate::delivery_queue::DeliveryQueue`],
//! [`crate::outbox::Outbox`]) have in common: the actions a Durable Object carries out for
//! them, and (for their simulations) a seeded random source.

use alloc::collections::VecDeque;

use crate::time::UnixTime;

/// What the object does for a machine, in order: write one storage change (`C`, the machine's
/// own change type) or set or cancel its alarm.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action<C> {
    Persist(C),
    /// Set the object's alarm (a time in the past fires at once).
    SetAlarm(UnixTime),
    CancelAlarm,
}

/// What a machine does about an alarm it does not know to be set (after a restart, before it
/// has asked for one): ask to cancel it, or leave it to fire and find nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnknownAlarm {
    Cancel,
    Leave,
}

/// Ask for the alarm a machine wants (`want`; `None` = none) unless it already asked for that.
/// `asked` is what it last asked for (`None` = nothing yet since it was built).
pub(crate) fn sync_alarm<C>(
    asked: &mut Option<Option<UnixTime>>,
    want: Option<UnixTime>,
    unknown: UnknownAlarm,
    actions: &mut VecDeque<Action<C>>,
) {
    let unchanged = *asked == Some(want);
    let leave_unknown = want.is_none() && asked.is_none() && unknown == UnknownAlarm::Leave;
    if unchanged || leave_unknown {
        return;
    }
    *asked = Some(want);
    actions.push_back(match want {
        Some(at) => Action::SetAlarm(at),
        None => Action::CancelAlarm,
    });
}

#[cfg(test)]
impl<C> Action<C> {
    /// For the simulations' stores: an alarm action sets or clears `alarm`; a storage change
    /// is handed back to be written.
    pub(crate) fn into_change(self, alarm: &mut Option<UnixTime>) -> Option<C> {
        match self {
            Action::Persist(change) => Some(change),
            Action::SetAlarm(at) => {
                *alarm = Some(at);
                None
            }
            Action::CancelAlarm => {
                *alarm = None;
                None
            }
        }
    }
}

/// xorshift64*: small, fast and plenty for choosing the steps of a simulation.
#[cfg(test)]
pub(crate) struct Rng(u64);

#[cfg(test)]
impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// True `percent` times in a hundred.
    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn synced(
        asked: &mut Option<Option<UnixTime>>,
        want: Option<UnixTime>,
        unknown: UnknownAlarm,
    ) -> Vec<Action<()>> {
        let mut actions = VecDeque::new();
        sync_alarm(asked, want, unknown, &mut actions);
        actions.into_iter().collect()
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn an_alarm_is_asked_for_once_per_change() {
        let t = UnixTime::from_millis(5);
        for unknown in [UnknownAlarm::Cancel, UnknownAlarm::Leave] {
            let mut asked = None;
            assert_eq!(synced(&mut asked, Some(t), unknown), [Action::SetAlarm(t)]);
            assert_eq!(synced(&mut asked, Some(t), unknown), []);
            assert_eq!(synced(&mut asked, None, unknown), [Action::CancelAlarm]);
            assert_eq!(synced(&mut asked, None, unknown), []);
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn an_unknown_alarm_is_cancelled_or_left_as_the_machine_says() {
        let mut asked = None;
        assert_eq!(
            synced(&mut asked, None, UnknownAlarm::Cancel),
            [Action::CancelAlarm]
        );
        assert_eq!(asked, Some(None));
        let mut asked = None;
        assert_eq!(synced(&mut asked, None, UnknownAlarm::Leave), []);
        assert_eq!(asked, None);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn a_simulated_store_takes_alarms_and_hands_back_changes() {
        let t = UnixTime::from_millis(9);
        let mut alarm = None;
        assert_eq!(Action::SetAlarm(t).into_change(&mut alarm), None::<()>);
        assert_eq!(alarm, Some(t));
        assert_eq!(Action::Persist(7).into_change(&mut alarm), Some(7));
        assert_eq!(alarm, Some(t));
        assert_eq!(Action::<()>::CancelAlarm.into_change(&mut alarm), None);
        assert_eq!(alarm, None);
    }
}
