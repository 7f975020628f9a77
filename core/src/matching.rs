//! Which subscriptions an outbound event goes to (spec §9 steps 1–3), and the main-unit
//! expansion decision of step 2.
//!
//! [`SubscriptionIndex`] keeps the validated subscriptions in buckets keyed by
//! `(resource, subject filter or none, type filter or none)`. Matching an event probes at most
//! six buckets (event subject or none × event type or none, plus the main unit's subject ×
//! event type or none), so its cost depends on how many subscriptions match, not on how many
//! exist for other resources, subjects or types. Probes use borrowed `&str` keys and do not
//! allocate; a bucket's slots carry the flags matching needs and the position of the entry
//! (for its source filter), so no further hash look-up is made per candidate.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::hash::{Hash, Hasher};

use hashbrown::hash_map::EntryRef;
use hashbrown::{Equivalent, HashMap};

use crate::uri::AbsoluteUri;
use crate::urn::is_valid_urn;

/// A subscription's id.
pub type SubscriptionId = i64;

/// What the index needs of a subscription.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatchEntry {
    pub id: SubscriptionId,
    /// `resourceFilter`, matched exactly (stored lower-case by the caller).
    pub resource: String,
    /// `subjectFilter`; `None` matches any subject.
    pub subject: Option<String>,
    /// `typeFilter`; `None` matches any type.
    pub type_: Option<String>,
    /// `sourceFilter`, applied with .NET `Uri.IsBaseOf` when the event has a source.
    pub source_filter: Option<AbsoluteUri>,
    /// `includeSubunits`: also receive events of the main unit's sub-units.
    pub include_subunits: bool,
    /// Only validated subscriptions receive events.
    pub validated: bool,
    pub consumer: String,
}

/// The event attributes matching looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventKey<'a> {
    pub resource: &'a str,
    pub subject: Option<&'a str>,
    pub type_: &'a str,
    pub source: Option<&'a str>,
    /// Subject of the event's main unit (see [`main_unit_lookup`] and [`main_unit_subject`]),
    /// when the caller resolved one.
    pub main_unit_subject: Option<&'a str>,
}

/// The filters a bucket is keyed by, borrowed: what a look-up needs, without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Probe<'a> {
    resource: &'a str,
    subject: Option<&'a str>,
    type_: Option<&'a str>,
}

impl<'a> Probe<'a> {
    fn new(resource: &'a str, subject: Option<&'a str>, type_: Option<&'a str>) -> Self {
        Probe {
            resource,
            subject,
            type_,
        }
    }

    fn of(entry: &'a MatchEntry) -> Self {
        Probe::new(
            &entry.resource,
            entry.subject.as_deref(),
            entry.type_.as_deref(),
        )
    }
}

/// The one hash of a bucket key, used by both [`Probe`] and [`BucketKey`].
impl Hash for Probe<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.resource.hash(state);
        self.subject.hash(state);
        self.type_.hash(state);
    }
}

/// The filters a bucket is keyed by, owned: resource, subject filter and type filter in one
/// allocation, so that comparing a key during a look-up reads one string.
#[derive(Debug, Clone, PartialEq, Eq)]
struct BucketKey {
    /// `resource`, then the subject filter (if any), then the type filter (if any).
    text: Box<str>,
    resource_len: usize,
    /// Length of the subject filter; `None` when the bucket has no subject filter.
    subject_len: Option<usize>,
    has_type: bool,
}

impl BucketKey {
    fn parts(&self) -> Probe<'_> {
        let text = &*self.text;
        let (resource, rest) = text
            .split_at_checked(self.resource_len)
            .unwrap_or((text, ""));
        let (subject, type_) = match self.subject_len {
            Some(len) => {
                let (subject, type_) = rest.split_at_checked(len).unwrap_or((rest, ""));
                (Some(subject), type_)
            }
            None => (None, rest),
        };
        Probe::new(resource, subject, self.has_type.then_some(type_))
    }
}

impl Hash for BucketKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.parts().hash(state);
    }
}

impl Equivalent<BucketKey> for Probe<'_> {
    fn equivalent(&self, key: &BucketKey) -> bool {
        // Lengths first: they are in the table, the text is behind a pointer.
        key.resource_len == self.resource.len()
            && key.subject_len == self.subject.map(str::len)
            && key.has_type == self.type_.is_some()
            && key.parts() == *self
    }
}

impl From<&Probe<'_>> for BucketKey {
    fn from(probe: &Probe<'_>) -> Self {
        let subject = probe.subject.unwrap_or("");
        let type_ = probe.type_.unwrap_or("");
        let mut text = String::with_capacity(probe.resource.len() + subject.len() + type_.len());
        text.push_str(probe.resource);
        text.push_str(subject);
        text.push_str(type_);
        BucketKey {
            text: text.into_boxed_str(),
            resource_len: probe.resource.len(),
            subject_len: probe.subject.map(str::len),
            has_type: probe.type_.is_some(),
        }
    }
}

/// One validated subscription in a bucket: what matching needs, and where its entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Slot {
    id: SubscriptionId,
    /// Index of the entry in [`SubscriptionIndex::entries`].
    pos: usize,
    include_subunits: bool,
    has_source_filter: bool,
}

impl Slot {
    fn of(entry: &MatchEntry, pos: usize) -> Self {
        Slot {
            id: entry.id,
            pos,
            include_subunits: entry.include_subunits,
            has_source_filter: entry.source_filter.is_some(),
        }
    }
}

/// The slots of one bucket, sorted by id. Most buckets hold one subscription, kept inline in
/// the table.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Slots {
    One(Slot),
    /// Two or more, sorted by id.
    Many(Vec<Slot>),
}

impl Slots {
    fn as_slice(&self) -> &[Slot] {
        match self {
            Slots::One(slot) => core::slice::from_ref(slot),
            Slots::Many(slots) => slots,
        }
    }

    /// Add `slot`, replacing one with the same id.
    fn insert(&mut self, slot: Slot) {
        match self {
            Slots::One(one) if one.id == slot.id => *one = slot,
            Slots::One(one) => {
                let pair = if one.id < slot.id {
                    vec![*one, slot]
                } else {
                    vec![slot, *one]
                };
                *self = Slots::Many(pair);
            }
            Slots::Many(slots) => match slots.binary_search_by_key(&slot.id, |s| s.id) {
                Ok(i) => {
                    if let Some(existing) = slots.get_mut(i) {
                        *existing = slot;
                    }
                }
                Err(i) => slots.insert(i, slot),
            },
        }
    }

    /// The slot of `id`.
    fn get_mut(&mut self, id: SubscriptionId) -> Option<&mut Slot> {
        match self {
            Slots::One(one) => (one.id == id).then_some(one),
            Slots::Many(slots) => {
                let i = slots.binary_search_by_key(&id, |s| s.id).ok()?;
                slots.get_mut(i)
            }
        }
    }

    /// Remove the slot of `id`; true when none is left.
    fn remove(&mut self, id: SubscriptionId) -> bool {
        match self {
            Slots::One(one) => one.id == id,
            Slots::Many(slots) => {
                if let Ok(i) = slots.binary_search_by_key(&id, |s| s.id) {
                    slots.remove(i);
                }
                match slots.as_slice() {
                    [] => return true,
                    [one] => *self = Slots::One(*one),
                    _ => {}
                }
                false
            }
        }
    }
}

/// In-memory index of subscriptions for matching outbound events (spec §9 steps 1–3).
#[derive(Debug, Clone, Default)]
pub struct SubscriptionIndex {
    /// Every entry, validated or not, densely in no particular order.
    entries: Vec<MatchEntry>,
    /// Entry id → index in `entries`.
    positions: HashMap<SubscriptionId, usize>,
    /// Validated entries only: (resource, subject filter, type filter) → slots; no empty buckets.
    buckets: HashMap<BucketKey, Slots>,
}

impl SubscriptionIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// Insert `entry`, or replace the entry with the same id (moving it to the bucket of its
    /// new filters).
    pub fn upsert(&mut self, entry: MatchEntry) {
        let existing = self
            .positions
            .get(&entry.id)
            .and_then(|&pos| Some((pos, self.entries.get_mut(pos)?)));
        if let Some((pos, old)) = existing {
            if old.validated {
                unlink(&mut self.buckets, old);
            }
            if entry.validated {
                link(&mut self.buckets, &entry, pos);
            }
            *old = entry;
        } else {
            let pos = self.entries.len();
            if entry.validated {
                link(&mut self.buckets, &entry, pos);
            }
            self.positions.insert(entry.id, pos);
            self.entries.push(entry);
        }
    }

    /// Remove the entry with id `id`, returning it.
    pub fn remove(&mut self, id: SubscriptionId) -> Option<MatchEntry> {
        let pos = self.positions.remove(&id)?;
        if pos >= self.entries.len() {
            return None;
        }
        let entry = self.entries.swap_remove(pos);
        if entry.validated {
            unlink(&mut self.buckets, &entry);
        }
        // The last entry moved into `pos`.
        if let Some(moved) = self.entries.get(pos) {
            self.positions.insert(moved.id, pos);
            if moved.validated {
                let slot = self
                    .buckets
                    .get_mut(&Probe::of(moved))
                    .and_then(|slots| slots.get_mut(moved.id));
                if let Some(slot) = slot {
                    slot.pos = pos;
                }
            }
        }
        Some(entry)
    }

    /// Set the `validated` flag of entry `id`; false if there is no such entry.
    pub fn set_validated(&mut self, id: SubscriptionId, validated: bool) -> bool {
        let Some(&pos) = self.positions.get(&id) else {
            return false;
        };
        let Some(entry) = self.entries.get_mut(pos) else {
            return false;
        };
        if entry.validated != validated {
            entry.validated = validated;
            if validated {
                link(&mut self.buckets, entry, pos);
            } else {
                unlink(&mut self.buckets, entry);
            }
        }
        true
    }

    /// The entry with id `id`.
    pub fn get(&self, id: SubscriptionId) -> Option<&MatchEntry> {
        self.positions
            .get(&id)
            .and_then(|&pos| self.entries.get(pos))
    }

    /// Number of entries, validated or not.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True iff the index holds no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The subscriptions `event` goes to (spec §9 steps 1–3), as ids ascending and unique,
    /// written to `out` (cleared first).
    ///
    /// Direct matches are validated entries with `resource == event.resource` (exact,
    /// case-sensitive), subject filter `None` or equal to the event subject (an event without
    /// subject only matches entries without subject filter), and type filter `None` or equal
    /// to the event type. When `main_unit_subject` is `Some(m)`, validated entries on the same
    /// resource with subject filter `m`, type filter `None` or the event type, and
    /// `include_subunits` are added. Then, if the event has a source, entries whose source
    /// filter is not a base of it ([`AbsoluteUri::is_base_of_str`]) are dropped.
    ///
    /// At most six hash look-ups. Allocates
    /// nothing beyond growing `out`, except one parse of the event source when a candidate
    /// has a source filter.
    pub fn matches(&self, event: &EventKey<'_>, out: &mut Vec<SubscriptionId>) {
        out.clear();
        let resource = event.resource;
        let type_ = Some(event.type_);
        let subject = event.subject;
        // A main unit equal to the event subject adds nothing the direct probes do not find.
        let main = event.main_unit_subject.filter(|m| subject != Some(*m));
        // (bucket, only entries with include_subunits); each probe names a different bucket.
        let probes = [
            subject.map(|s| (Probe::new(resource, Some(s), type_), false)),
            subject.map(|s| (Probe::new(resource, Some(s), None), false)),
            Some((Probe::new(resource, None, type_), false)),
            Some((Probe::new(resource, None, None), false)),
            main.map(|m| (Probe::new(resource, Some(m), type_), true)),
            main.map(|m| (Probe::new(resource, Some(m), None), true)),
        ];
        // The event source, parsed on first need: `Some(None)` when it is not an absolute URI.
        let mut parsed_source: Option<Option<AbsoluteUri>> = None;
        let mut sorted = true;
        for (key, subunits_only) in probes.into_iter().flatten() {
            let Some(slots) = self.buckets.get(&key) else {
                continue;
            };
            for slot in slots.as_slice() {
                if subunits_only && !slot.include_subunits {
                    continue;
                }
                if slot.has_source_filter {
                    if let Some(source) = event.source {
                        if !self.source_passes(slot.pos, source, &mut parsed_source) {
                            continue;
                        }
                    }
                }
                if out.last().is_some_and(|&last| last >= slot.id) {
                    sorted = false;
                }
                out.push(slot.id);
            }
        }
        if !sorted {
            out.sort_unstable();
            out.dedup();
        }
    }

    /// Whether the source filter (if any) of the entry at `pos` is a base of `source`, as
    /// [`AbsoluteUri::is_base_of_str`] decides, parsing `source` at most once per event.
    fn source_passes(
        &self,
        pos: usize,
        source: &str,
        parsed: &mut Option<Option<AbsoluteUri>>,
    ) -> bool {
        let Some(filter) = self.entries.get(pos).and_then(|e| e.source_filter.as_ref()) else {
            return true;
        };
        let source = parsed.get_or_insert_with(|| {
            AbsoluteUri::parse(source.trim_matches(|c: char| c.is_ascii_whitespace())).ok()
        });
        match source {
            Some(uri) => filter.is_base_of(uri),
            None => false,
        }
    }
}

/// Put a validated `entry`, stored at `pos`, into its bucket (replacing a slot with the same id).
fn link(buckets: &mut HashMap<BucketKey, Slots>, entry: &MatchEntry, pos: usize) {
    let slot = Slot::of(entry, pos);
    match buckets.entry_ref(&Probe::of(entry)) {
        EntryRef::Occupied(mut occupied) => occupied.get_mut().insert(slot),
        EntryRef::Vacant(vacant) => {
            vacant.insert(Slots::One(slot));
        }
    }
}

/// Take `entry` out of its bucket, dropping the bucket when it is left empty.
fn unlink(buckets: &mut HashMap<BucketKey, Slots>, entry: &MatchEntry) {
    let key = Probe::of(entry);
    if let Some(slots) = buckets.get_mut(&key) {
        if slots.remove(entry.id) {
            buckets.remove(&key);
        }
    }
}

/// How the main unit's subject is written (spec §9 step 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MainUnitFormat {
    /// The event subject is an organisation URN: match the main unit's organisation URN.
    Urn,
    /// The event subject is `/party/{id}`: match `/party/{main unit party id}`.
    Party,
}

const ORGANIZATION_URN_PREFIX: &str = "urn:altinn:organization:";
const PARTY_PREFIX: &str = "/party/";
const ORGANISATION_ALTERNATIVE_PREFIXES: [&str; 3] = ["/org/", "/organisation/", "/organization/"];

/// `s` without `prefix`, compared ASCII case-insensitively.
fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        s.get(prefix.len()..)
    } else {
        None
    }
}

/// Which organisation to ask the register about for an event's main unit (spec §9 step 2).
///
/// A valid URN (§4.7) starting (case-insensitively) with `urn:altinn:organization:` gives
/// `(subject, Urn)`; any other URN gives `None`. Otherwise a subject starting with `/party/`
/// together with an alternative subject starting with `/org/`, `/organisation/` or
/// `/organization/` (all case-insensitive) gives
/// `(urn:altinn:party:id:{rest after /party/ without trailing '/'}, Party)`. Anything else
/// gives `None`.
pub fn main_unit_lookup(
    subject: Option<&str>,
    alternative_subject: Option<&str>,
) -> Option<(String, MainUnitFormat)> {
    let subject = subject?;
    if is_valid_urn(subject) {
        return strip_prefix_ignore_case(subject, ORGANIZATION_URN_PREFIX)
            .map(|_| (subject.to_string(), MainUnitFormat::Urn));
    }
    let party = strip_prefix_ignore_case(subject, PARTY_PREFIX)?;
    let alternative = alternative_subject?;
    if !ORGANISATION_ALTERNATIVE_PREFIXES
        .iter()
        .any(|p| strip_prefix_ignore_case(alternative, p).is_some())
    {
        return None;
    }
    Some((
        format!("urn:altinn:party:id:{}", party.trim_end_matches('/')),
        MainUnitFormat::Party,
    ))
}

/// The main unit's subject that subscriptions are matched against (spec §9 step 2):
/// `urn:altinn:organization:identifier-no:{organization_identifier}` for [`MainUnitFormat::Urn`],
/// `/party/{party_id}` for [`MainUnitFormat::Party`].
pub fn main_unit_subject(
    format: MainUnitFormat,
    organization_identifier: &str,
    party_id: i64,
) -> String {
    match format {
        MainUnitFormat::Urn => {
            format!("urn:altinn:organization:identifier-no:{organization_identifier}")
        }
        MainUnitFormat::Party => format!("/party/{party_id}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    const RES: &str = "urn:altinn:resource:app_ttd_app";
    const OTHER_RES: &str = "urn:altinn:resource:other";

    fn uri(s: &str) -> AbsoluteUri {
        match AbsoluteUri::parse(s) {
            Ok(u) => u,
            Err(e) => panic!("{s:?} should parse: {e}"),
        }
    }

    fn entry(
        id: SubscriptionId,
        resource: &str,
        subject: Option<&str>,
        type_: Option<&str>,
    ) -> MatchEntry {
        MatchEntry {
            id,
            resource: resource.to_string(),
            subject: subject.map(ToString::to_string),
            type_: type_.map(ToString::to_string),
            source_filter: None,
            include_subunits: false,
            validated: true,
            consumer: "/org/ttd".to_string(),
        }
    }

    fn index_of(entries: &[MatchEntry]) -> SubscriptionIndex {
        let mut index = SubscriptionIndex::new();
        for e in entries {
            index.upsert(e.clone());
        }
        index
    }

    fn event<'a>(resource: &'a str, subject: Option<&'a str>, type_: &'a str) -> EventKey<'a> {
        EventKey {
            resource,
            subject,
            type_,
            source: None,
            main_unit_subject: None,
        }
    }

    fn run(index: &SubscriptionIndex, event: &EventKey<'_>) -> Vec<SubscriptionId> {
        // Start from garbage to check that `matches` clears `out`.
        let mut out = vec![-1, -2, -3];
        index.matches(event, &mut out);
        out
    }

    /// Spec §9 steps 1–3 written out as a linear scan, to check the index against.
    fn naive(entries: &[MatchEntry], event: &EventKey<'_>) -> Vec<SubscriptionId> {
        let mut ids: Vec<SubscriptionId> = entries
            .iter()
            .filter(|e| e.validated && e.resource == event.resource)
            .filter(|e| e.type_.as_deref().is_none_or(|t| t == event.type_))
            .filter(|e| {
                let direct = match e.subject.as_deref() {
                    None => true,
                    Some(s) => event.subject == Some(s),
                };
                let sub_unit = e.include_subunits
                    && e.subject.is_some()
                    && e.subject.as_deref() == event.main_unit_subject;
                direct || sub_unit
            })
            .filter(|e| match (&e.source_filter, event.source) {
                (Some(f), Some(source)) => f.is_base_of_str(source),
                _ => true,
            })
            .map(|e| e.id)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    #[wasm_bindgen_test::wasm_bindgen_test(unsupported = test)]
    fn direct_matching_rules() {
        let entries = [
            entry(1, RES, None, None),
            entry(2, RES, Some("/party/1"), None),
            entry(3, RES, None, Some("app.instance.created")),
            entry(4, RES, Some("/party/1"), Some("app.instance.created")),
            entry(5, RES, Some("/party/2"), None),
            entry(
                6,
                RES,
                Some("/party/1"),
                Some("app.instance.process.completed"),
            ),
            entry(7, OTHER_RES, None, None),
            entry(8, RES, Some("/Party/1"), None),
            entry(9, "urn:altinn:resource:APP_TTD_APP", None, None),
            entry(10, RES, None, Some("App.Instance.Created")),
            entry(11, RES, Some(""), None),
        ];
        let index = index_of(&entries);
        let created = "app.instance.created";
        let cases: &[(EventKey<'_>, &[SubscriptionId])] = &[
            (event(RES, Some("/party/1"), created), &[1, 2, 3, 4]),
            (
                event(RES, Some("/party/1"), "app.instance.process.completed"),
                &[1, 2, 6],
            ),
            (event(RES, Some("/party/2"), created), &[1, 3, 5]),
            (event(RES, Some("/party/3"), created), &[1, 3]),
            // Without subject: only subscriptions without subject filter.
            (event(RES, None, created), &[1, 3]),
            (event(RES, None, "other"), &[1]),
            // Case-sensitive subject, type and resource.
            (event(RES, Some("/Party/1"), created), &[1, 3, 8]),
            (
                event(RES, Some("/party/1"), "App.Instance.Created"),
                &[1, 2, 10],
            ),
            (
                event("urn:altinn:resource:APP_TTD_APP", None, created),
                &[9],
            ),
            (event("URN:ALTINN:RESOURCE:APP_TTD_APP", None, created), &[]),
            // Exact only: no prefix matching.
            (event(RES, Some("/party/10"), created), &[1, 3]),
            (event("urn:altinn:resource:app_ttd", None, created), &[]),
            (event(OTHER_RES, Some("/party/1"), created), &[7]),
            (event("urn:altinn:resource:unknown", None, created), &[]),
            // An empty subject is a subject like any other.
            (event(RES, Some(""), "x"), &[1, 11]),
        ];
        for (ev, expected) in cases {
            assert_eq!(run(&index, ev), *expected, "{ev:?}");
            assert_eq!(naive(&entries, ev), *expected, "naive {ev:?}");
        }
    }

    #[wasm_bindgen_test::wasm_bindgen_test(unsupported = test)]
    fn unvalidated_entries_never_match() {
        let mut entries = [
            entry(1, RES, None, None),
            entry(2, RES, Some("/party/1"), None),
            entry(3, RES, Some("/party/9"), None),
        ];
        for e in &mut entries {
            e.validated = false;
            e.include_subunits = true;
        }
        let index = index_of(&entries);
        let cases: &[(Option<&str>, Option<&str>)] = &[
            (None, None),
            (Some("/party/1"), None),
            (Some("/party/1"), Some("/party/9")),
        ];
        for &(subject, main) in cases {
            let ev = EventKey {
                main_unit_subject: main,
                ..event(RES, subject, "t")
            };
            assert_eq!(run(&index, &ev), Vec::<SubscriptionId>::new(), "{ev:?}");
        }
        assert_eq!(index.len(), 3);
    }

    #[wasm_bindgen_test::wasm_bindgen_test(unsupported = test)]
    fn source_filter_uses_is_base_of() {
        let app = "https://ttd.apps.altinn.no/ttd/app";
        let instance = "https://ttd.apps.altinn.no/ttd/app/instances/1/x";
        // (source filter, event source, kept)
        let cases: &[(&str, Option<&str>, bool)] = &[
            (app, Some(instance), true),
            (app, Some("https://ttd.apps.altinn.no/ttd/app"), true),
            // The filter's last segment is ignored.
            (
                app,
                Some("https://ttd.apps.altinn.no/ttd/other-app/1"),
                true,
            ),
            (app, Some("https://ttd.apps.altinn.no/digdir/app/1"), false),
            (
                app,
                Some("https://other.apps.altinn.no/ttd/app/instances/1"),
                false,
            ),
            (
                app,
                Some("http://ttd.apps.altinn.no/ttd/app/instances/1"),
                false,
            ),
            ("ftp://ttd.apps.altinn.no/ttd/app", Some(instance), false),
            // Host case and default port are normalised; surrounding whitespace trimmed.
            (
                app,
                Some("https://TTD.apps.altinn.no:443/ttd/app/i/1"),
                true,
            ),
            (app, Some("  https://ttd.apps.altinn.no/ttd/app/i/1 "), true),
            // A source that is not an absolute URI is based on nothing.
            (app, Some("/ttd/app/instances/1"), false),
            (app, Some("urn:altinn:foo"), false),
            // An event without source keeps entries with source filters.
            (app, None, true),
            ("https://other.example/x", None, true),
        ];
        for &(filter, source, kept) in cases {
            let mut filtered = entry(2, RES, None, None);
            filtered.source_filter = Some(uri(filter));
            let entries = [
                entry(1, RES, None, None),
                filtered,
                entry(3, RES, None, None),
            ];
            let index = index_of(&entries);
            let ev = EventKey {
                source,
                ..event(RES, Some("/party/1"), "t")
            };
            let expected: &[SubscriptionId] = if kept { &[1, 2, 3] } else { &[1, 3] };
            assert_eq!(run(&index, &ev), expected, "{filter} vs {source:?}");
            assert_eq!(
                naive(&entries, &ev),
                expected,
                "naive {filter} vs {source:?}"
            );
        }
    }

    #[wasm_bindgen_test::wasm_bindgen_test(unsupported = test)]
    fn main_unit_adds_only_include_subunits_entries() {
        let sub = "/party/51326197";
        let main = "/party/51326198";
        let with_subunits = |id, subject: &str, type_: Option<&str>| MatchEntry {
            include_subunits: true,
            ..entry(id, RES, Some(subject), type_)
        };
        let mut filtered = with_subunits(8, main, None);
        filtered.source_filter = Some(uri("https://ttd.apps.altinn.no/ttd/app"));
        let entries = [
            entry(1, RES, Some(sub), None),
            entry(2, RES, Some(main), None),
            with_subunits(3, main, None),
            with_subunits(4, main, Some("t")),
            with_subunits(5, main, Some("u")),
            with_subunits(6, sub, None),
            MatchEntry {
                include_subunits: true,
                ..entry(7, OTHER_RES, Some(main), None)
            },
            filtered,
            entry(9, RES, None, None),
        ];
        let index = index_of(&entries);
        // (subject, main unit subject, type, source, expected)
        #[allow(clippy::type_complexity)]
        let cases: &[(
            Option<&str>,
            Option<&str>,
            &str,
            Option<&str>,
            &[SubscriptionId],
        )] = &[
            (Some(sub), None, "t", None, &[1, 6, 9]),
            (Some(sub), Some(main), "t", None, &[1, 3, 4, 6, 8, 9]),
            (Some(sub), Some(main), "u", None, &[1, 3, 5, 6, 8, 9]),
            (Some(sub), Some(main), "v", None, &[1, 3, 6, 8, 9]),
            (
                Some(sub),
                Some(main),
                "t",
                Some("https://ttd.apps.altinn.no/ttd/app/instances/1"),
                &[1, 3, 4, 6, 8, 9],
            ),
            (
                Some(sub),
                Some(main),
                "t",
                Some("https://elsewhere.no/ttd/app/instances/1"),
                &[1, 3, 4, 6, 9],
            ),
            // The main unit's own events reach all its subscriptions once.
            (Some(main), Some(main), "t", None, &[2, 3, 4, 8, 9]),
            (Some(main), None, "t", None, &[2, 3, 4, 8, 9]),
            // Without event subject the main-unit probes still apply.
            (None, Some(main), "t", None, &[3, 4, 8, 9]),
        ];
        for &(subject, main_unit_subject, type_, source, expected) in cases {
            let ev = EventKey {
                source,
                main_unit_subject,
                ..event(RES, subject, type_)
            };
            assert_eq!(run(&index, &ev), expected, "{ev:?}");
            assert_eq!(naive(&entries, &ev), expected, "naive {ev:?}");
        }
    }

    #[wasm_bindgen_test::wasm_bindgen_test(unsupported = test)]
    fn upsert_moves_entries_between_buckets() {
        let mut index = index_of(&[
            entry(1, RES, Some("/party/1"), Some("t")),
            entry(2, RES, None, None),
        ]);
        let moved = MatchEntry {
            consumer: "/org/digdir".to_string(),
            ..entry(1, OTHER_RES, Some("/party/2"), None)
        };
        // (replacement for id 1 or none, event, expected)
        let p1 = event(RES, Some("/party/1"), "t");
        let p2_other = event(OTHER_RES, Some("/party/2"), "x");
        let p2 = event(RES, Some("/party/2"), "t");
        #[allow(clippy::type_complexity)]
        let steps: &[(Option<MatchEntry>, &[(EventKey<'_>, &[SubscriptionId])])] = &[
            (None, &[(p1, &[1, 2]), (p2_other, &[]), (p2, &[2])]),
            (
                Some(moved.clone()),
                &[(p1, &[2]), (p2_other, &[1]), (p2, &[2])],
            ),
            (
                Some(entry(1, RES, Some("/party/2"), None)),
                &[(p1, &[2]), (p2_other, &[]), (p2, &[1, 2])],
            ),
            (
                Some(MatchEntry {
                    validated: false,
                    ..entry(1, RES, Some("/party/1"), None)
                }),
                &[(p1, &[2]), (p2_other, &[]), (p2, &[2])],
            ),
            (
                Some(entry(1, RES, Some("/party/1"), None)),
                &[(p1, &[1, 2]), (p2_other, &[]), (p2, &[2])],
            ),
        ];
        for (i, (replacement, checks)) in steps.iter().enumerate() {
            if let Some(e) = replacement {
                index.upsert(e.clone());
                assert_eq!(index.get(1), Some(e), "step {i}");
            }
            assert_eq!(index.len(), 2, "step {i}");
            for (ev, expected) in *checks {
                assert_eq!(run(&index, ev), *expected, "step {i} {ev:?}");
            }
        }
        // Moving out of a bucket leaves no empty buckets or resources behind.
        index.upsert(moved);
        assert_eq!(index.buckets.len(), 2);
        index.upsert(entry(1, RES, None, None));
        assert_eq!(index.buckets.len(), 1);
        let bucket = index.buckets.get(&Probe::new(RES, None, None));
        assert_eq!(bucket.map(Slots::as_slice).map(<[Slot]>::len), Some(2));
        assert_eq!(run(&index, &p1), [1, 2]);
    }

    #[wasm_bindgen_test::wasm_bindgen_test(unsupported = test)]
    fn remove_entries() {
        let entries = [
            entry(1, RES, None, None),
            entry(2, RES, Some("/party/1"), None),
            MatchEntry {
                validated: false,
                ..entry(3, RES, None, None)
            },
        ];
        let mut index = index_of(&entries);
        let ev = event(RES, Some("/party/1"), "t");
        // (id to remove, returned entry, len after, matches after)
        let cases: &[(
            SubscriptionId,
            Option<&MatchEntry>,
            usize,
            &[SubscriptionId],
        )] = &[
            (4, None, 3, &[1, 2]),
            (2, Some(&entries[1]), 2, &[1]),
            (2, None, 2, &[1]),
            (3, Some(&entries[2]), 1, &[1]),
            (1, Some(&entries[0]), 0, &[]),
        ];
        for &(id, removed, len, expected) in cases {
            assert_eq!(index.remove(id).as_ref(), removed, "remove {id}");
            assert_eq!(index.get(id), None, "get {id}");
            assert_eq!(index.len(), len, "len after {id}");
            assert_eq!(index.is_empty(), len == 0, "is_empty after {id}");
            assert_eq!(run(&index, &ev), expected, "matches after {id}");
        }
        assert!(index.buckets.is_empty());
    }

    #[wasm_bindgen_test::wasm_bindgen_test(unsupported = test)]
    fn set_validated_toggles_matching() {
        let mut index = index_of(&[
            entry(1, RES, None, None),
            MatchEntry {
                validated: false,
                ..entry(2, RES, None, None)
            },
        ]);
        let ev = event(RES, None, "t");
        // (id, validated, returned, validated flag of id after, matches after)
        #[allow(clippy::type_complexity)]
        let cases: &[(SubscriptionId, bool, bool, Option<bool>, &[SubscriptionId])] = &[
            (2, true, true, Some(true), &[1, 2]),
            (2, true, true, Some(true), &[1, 2]),
            (1, false, true, Some(false), &[2]),
            (1, false, true, Some(false), &[2]),
            (3, true, false, None, &[2]),
            (2, false, true, Some(false), &[]),
            (1, true, true, Some(true), &[1]),
        ];
        for &(id, validated, returned, flag, expected) in cases {
            assert_eq!(
                index.set_validated(id, validated),
                returned,
                "{id} {validated}"
            );
            assert_eq!(index.get(id).map(|e| e.validated), flag, "{id} {validated}");
            assert_eq!(run(&index, &ev), expected, "{id} {validated}");
        }
        assert_eq!(index.len(), 2);
    }

    #[wasm_bindgen_test::wasm_bindgen_test(unsupported = test)]
    fn ids_ascending_and_unique_across_buckets() {
        let subunits = |id, subject| MatchEntry {
            include_subunits: true,
            ..entry(id, RES, Some(subject), None)
        };
        let entries = [
            entry(50, RES, None, None),
            entry(-3, RES, Some("/party/1"), Some("t")),
            entry(7, RES, None, Some("t")),
            entry(i64::MAX, RES, Some("/party/1"), None),
            entry(i64::MIN, RES, None, None),
            entry(0, RES, Some("/party/1"), None),
            subunits(8, "/party/2"),
            subunits(-8, "/party/2"),
            entry(49, RES, Some("/party/1"), Some("t")),
        ];
        // Inserted in several orders, the output is the same.
        let orders: &[&[usize]] = &[
            &[0, 1, 2, 3, 4, 5, 6, 7, 8],
            &[8, 7, 6, 5, 4, 3, 2, 1, 0],
            &[4, 0, 8, 2, 6, 1, 3, 5, 7],
        ];
        let ev = EventKey {
            main_unit_subject: Some("/party/2"),
            ..event(RES, Some("/party/1"), "t")
        };
        let expected = [i64::MIN, -8, -3, 0, 7, 8, 49, 50, i64::MAX];
        for order in orders {
            let mut index = SubscriptionIndex::new();
            for &i in *order {
                if let Some(e) = entries.get(i) {
                    index.upsert(e.clone());
                }
            }
            assert_eq!(run(&index, &ev), expected, "{order:?}");
        }
        assert_eq!(naive(&entries, &ev), expected);
    }

    #[wasm_bindgen_test::wasm_bindgen_test(unsupported = test)]
    fn scale_100k_entries_over_2000_resources() {
        const RESOURCES: i64 = 2_000;
        const ROUNDS: i64 = 50;
        let resource = |r: i64| format!("urn:altinn:resource:res-{r}");
        let mut entries = Vec::new();
        for q in 0..ROUNDS {
            for r in 0..RESOURCES {
                let subject = match q % 5 {
                    0 => None,
                    k => Some(format!("/party/{k}")),
                };
                let type_ = match q % 3 {
                    0 => None,
                    k => Some(format!("t{k}")),
                };
                let mut e = entry(q * RESOURCES + r, &resource(r), None, None);
                e.subject = subject;
                e.type_ = type_;
                entries.push(e);
            }
        }
        let index = index_of(&entries);
        assert_eq!(index.len(), 100_000);
        let res7 = resource(7);
        // q with subject None or /party/1 (q % 5 in {0, 1}) and type None or t1 (q % 3 in {0, 1}).
        let expected: &[SubscriptionId] = &[
            7, 2007, 12007, 20007, 30007, 32007, 42007, 50007, 60007, 62007, 72007, 80007, 90007,
            92007,
        ];
        let ev = event(&res7, Some("/party/1"), "t1");
        assert_eq!(run(&index, &ev), expected);
        assert_eq!(naive(&entries, &ev), expected);
        let res1999 = resource(1999);
        // (event, resource number, rounds q of the expected ids q * 2000 + resource)
        let cases: &[(EventKey<'_>, i64, &[i64])] = &[
            // subject None (q % 5 == 0), type None or t2 (q % 3 in {0, 2})
            (event(&res7, None, "t2"), 7, &[0, 5, 15, 20, 30, 35, 45]),
            // subject None or /party/4 (q % 5 in {0, 4}), type None (q % 3 == 0)
            (
                event(&res1999, Some("/party/4"), "t9"),
                1999,
                &[0, 9, 15, 24, 30, 39, 45],
            ),
            // subject None (q % 5 == 0), type None or t1 (q % 3 in {0, 1})
            (
                event(&res1999, Some("/party/9"), "t1"),
                1999,
                &[0, 10, 15, 25, 30, 40, 45],
            ),
            (event("urn:altinn:resource:res-2000", None, "t1"), 2000, &[]),
        ];
        for (ev, r, rounds) in cases {
            let expected: Vec<SubscriptionId> = rounds.iter().map(|q| q * RESOURCES + r).collect();
            assert_eq!(run(&index, ev), expected, "{ev:?}");
            assert_eq!(naive(&entries, ev), expected, "naive {ev:?}");
        }
    }

    #[wasm_bindgen_test::wasm_bindgen_test(unsupported = test)]
    fn random_operations_agree_with_linear_scan() {
        // A fixed pseudo-random sequence of upserts, removals and validation changes over a
        // small domain, checking after each step every event of the domain against `naive`.
        let mut state: u64 = 0x5eed;
        let mut next = |n: u64| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) % n
        };
        let resources = [RES, OTHER_RES];
        let subjects = [None, Some("/party/1"), Some("/party/2"), Some("/party/3")];
        let types = [None, Some("a"), Some("b")];
        let filters = [
            None,
            Some("https://ttd.apps.altinn.no/ttd/app"),
            Some("https://other.example/x/"),
        ];
        let pick = |i: u64, n: usize| usize::try_from(i).unwrap_or(0) % n;
        let mut index = SubscriptionIndex::new();
        let mut model: alloc::collections::BTreeMap<SubscriptionId, MatchEntry> =
            alloc::collections::BTreeMap::new();
        let mut checks = 0;
        for step in 0..600 {
            let id = i64::try_from(next(40)).unwrap_or(0) - 20;
            match next(10) {
                0..=5 => {
                    let mut e = entry(
                        id,
                        resources[pick(next(2), 2)],
                        subjects[pick(next(4), 4)],
                        types[pick(next(3), 3)],
                    );
                    e.source_filter = filters[pick(next(3), 3)].map(uri);
                    e.include_subunits = next(2) == 0;
                    e.validated = next(4) != 0;
                    index.upsert(e.clone());
                    model.insert(id, e);
                }
                6 | 7 => {
                    assert_eq!(index.remove(id), model.remove(&id), "step {step}");
                }
                _ => {
                    let validated = next(2) == 0;
                    let known = match model.get_mut(&id) {
                        Some(e) => {
                            e.validated = validated;
                            true
                        }
                        None => false,
                    };
                    assert_eq!(index.set_validated(id, validated), known, "step {step}");
                }
            }
            assert_eq!(index.len(), model.len(), "step {step}");
            let all: Vec<MatchEntry> = model.values().cloned().collect();
            for e in &all {
                assert_eq!(index.get(e.id), Some(e), "step {step}");
            }
            for resource in resources {
                for subject in subjects {
                    for main in [None, Some("/party/2")] {
                        for source in [None, Some("https://ttd.apps.altinn.no/ttd/app/i/1")] {
                            let ev = EventKey {
                                resource,
                                subject,
                                type_: "a",
                                source,
                                main_unit_subject: main,
                            };
                            assert_eq!(run(&index, &ev), naive(&all, &ev), "step {step} {ev:?}");
                            checks += 1;
                        }
                    }
                }
            }
        }
        assert_eq!(checks, 600 * 2 * 4 * 2 * 2);
    }

    #[wasm_bindgen_test::wasm_bindgen_test(unsupported = test)]
    fn main_unit_lookup_rules() {
        use MainUnitFormat::{Party, Urn};
        let org = "urn:altinn:organization:identifier-no:910459880";
        // (subject, alternative subject, expected)
        #[allow(clippy::type_complexity)]
        let cases: &[(Option<&str>, Option<&str>, Option<(&str, MainUnitFormat)>)] = &[
            (Some(org), None, Some((org, Urn))),
            (Some(org), Some("/person/1"), Some((org, Urn))),
            (
                Some("urn:altinn:organization:uuid:0a1b"),
                None,
                Some(("urn:altinn:organization:uuid:0a1b", Urn)),
            ),
            // Other URNs never expand, whatever the alternative subject.
            (
                Some("urn:altinn:person:identifier-no:01017012345"),
                Some("/org/910459880"),
                None,
            ),
            (Some("urn:altinn:party:id:5"), Some("/org/1"), None),
            // Upper case is not a valid URN, nor a /party/ subject.
            (Some("urn:altinn:Organization:identifier-no:1"), None, None),
            (
                Some("/party/51326197"),
                Some("/org/910459880"),
                Some(("urn:altinn:party:id:51326197", Party)),
            ),
            (
                Some("/PARTY/51326197/"),
                Some("/Organisation/1"),
                Some(("urn:altinn:party:id:51326197", Party)),
            ),
            (
                Some("/party/51326197//"),
                Some("/ORGANIZATION/1"),
                Some(("urn:altinn:party:id:51326197", Party)),
            ),
            (
                Some("/party/"),
                Some("/org/1"),
                Some(("urn:altinn:party:id:", Party)),
            ),
            (Some("/party/51326197"), Some("/person/01017012345"), None),
            (Some("/party/51326197"), Some("/orgs/1"), None),
            (Some("/party/51326197"), Some("org/1"), None),
            (Some("/party/51326197"), None, None),
            (Some("/party"), Some("/org/1"), None),
            (Some("/user/1"), Some("/org/1"), None),
            (
                Some("/party/ø1"),
                Some("/org/1"),
                Some(("urn:altinn:party:id:ø1", Party)),
            ),
            (Some("/partyø"), Some("/org/1"), None),
            (None, Some("/org/1"), None),
            (None, None, None),
        ];
        for &(subject, alternative, expected) in cases {
            let got = main_unit_lookup(subject, alternative);
            let got = got.as_ref().map(|(urn, format)| (urn.as_str(), *format));
            assert_eq!(got, expected, "{subject:?} {alternative:?}");
        }
    }

    #[wasm_bindgen_test::wasm_bindgen_test(unsupported = test)]
    fn main_unit_subject_formats() {
        let cases: &[(MainUnitFormat, &str, i64, &str)] = &[
            (
                MainUnitFormat::Urn,
                "910459880",
                51326198,
                "urn:altinn:organization:identifier-no:910459880",
            ),
            (
                MainUnitFormat::Party,
                "910459880",
                51326198,
                "/party/51326198",
            ),
            (MainUnitFormat::Party, "", -1, "/party/-1"),
        ];
        for &(format, org, party, expected) in cases {
            assert_eq!(main_unit_subject(format, org, party), expected);
        }
    }
}
