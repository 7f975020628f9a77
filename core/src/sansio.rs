//! What the sans-IO state machines of this crate ([`crate::delivery_queue::DeliveryQueue`],
//! [`crate::outbox::Outbox`]) have in common: the actions a Durable Object carries out for
//! them, and (for their simulations) a seeded random source.

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
