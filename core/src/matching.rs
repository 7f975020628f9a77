//! Which subscriptions an outbound event goes to (spec §9 steps 1–3), and the main-unit
//! expansion decision of step 2.
//!
//! [`SubscriptionIndex`] keeps the validated subscriptions in two kinds of buckets:
//!
//! - per resource filter, the subscriptions without subject filter;
//! - per `(resource filter, subject filter)`, the subscriptions with that subject filter.
//!
//! Resource, type and source filters are interned: each distinct string gets a small number,
//! shared by every subscription that names it and freed with the last one. A bucket's slots
//! are 16 bytes (id, type filter number, source filter number, `include_subunits`), so
//! checking a candidate's type or source filter reads no subscription and follows no pointer.
//!
//! Matching an event makes at most four hash look-ups, none of which allocates: its resource
//! and type among the interned ones (a resource no validated subscription names ends it
//! there), then the subject buckets of the event subject and of its main unit. The resource
//! and type tables hold only distinct filters, so they stay small and in cache whatever the
//! number of subscriptions; a resource's subscriptions without subject filter are sorted by
//! type filter, so only those without one and those of the event type are read; a subject
//! bucket keeps subjects of up to 46 bytes inline in its key, so finding it reads the table and
//! no further memory. Source filters are checked without parsing the event source when it is
//! already in normal form (as app instance URLs are), and once per distinct filter per event.
//! The cost of an event thus depends on how many subscriptions match it, not on how many exist
//! (up to the memory latency of a table larger than the caches: see BENCHMARKS.md).

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

pub use crate::subscription::SubscriptionId;

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

/// Distinct strings, numbered, each with a reference count and a value: equal filters share
/// a number while any subscription holds it; the last release frees the number for reuse.
#[derive(Debug, Clone)]
struct Interner<V> {
    numbers: HashMap<Box<str>, u32>,
    items: Vec<Interned<V>>,
    free: Vec<u32>,
}

#[derive(Debug, Clone)]
struct Interned<V> {
    refs: u32,
    /// The string, to forget it on the last release; `None` while the number is free.
    name: Option<Box<str>>,
    value: V,
}

impl<V> Default for Interner<V> {
    fn default() -> Self {
        Interner {
            numbers: HashMap::new(),
            items: Vec::new(),
            free: Vec::new(),
        }
    }
}

impl<V: Default> Interner<V> {
    /// The number of `name`, if any subscription holds it.
    fn get(&self, name: &str) -> Option<u32> {
        self.numbers.get(name).copied()
    }

    /// The number of `name`, taking one more reference; a new name gets `make()` as its value.
    fn acquire(&mut self, name: &str, make: impl FnOnce() -> V) -> u32 {
        if let Some(&n) = self.numbers.get(name) {
            if let Some(item) = self.items.get_mut(n as usize) {
                item.refs += 1;
            }
            return n;
        }
        let item = Interned {
            refs: 1,
            name: Some(name.into()),
            value: make(),
        };
        let n = match self.free.pop() {
            Some(n) => {
                if let Some(slot) = self.items.get_mut(n as usize) {
                    *slot = item;
                }
                n
            }
            None => {
                // More than 2^32 distinct filters cannot be held in memory anyway.
                let n = u32::try_from(self.items.len()).unwrap_or(u32::MAX);
                self.items.push(item);
                n
            }
        };
        self.numbers.insert(name.into(), n);
        n
    }

    /// Drop one reference to `n`; the last one forgets the name and resets the value.
    fn release(&mut self, n: u32) {
        let Some(item) = self.items.get_mut(n as usize) else {
            return;
        };
        item.refs = item.refs.saturating_sub(1);
        if item.refs == 0 {
            if let Some(name) = item.name.take() {
                self.numbers.remove(&name);
            }
            item.value = V::default();
            self.free.push(n);
        }
    }

    fn value(&self, n: u32) -> Option<&V> {
        self.items.get(n as usize).map(|item| &item.value)
    }

    fn value_mut(&mut self, n: u32) -> Option<&mut V> {
        self.items.get_mut(n as usize).map(|item| &mut item.value)
    }

    /// Names in use, by number (tests).
    #[cfg(test)]
    fn names(&self) -> alloc::collections::BTreeMap<u32, &str> {
        self.numbers.iter().map(|(k, &n)| (n, &**k)).collect()
    }
}

/// Longest subject filter kept inline in a subject bucket's key (`/party/{id}` and the
/// organisation and person URNs fit).
const INLINE_SUBJECT: usize = 46;

/// A subject filter: inline up to [`INLINE_SUBJECT`] bytes (zero-padded), else on the heap.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Subject {
    Inline {
        len: u8,
        bytes: [u8; INLINE_SUBJECT],
    },
    Heap(Box<str>),
}

impl Subject {
    fn new(s: &str) -> Self {
        match u8::try_from(s.len()) {
            Ok(len) if s.len() <= INLINE_SUBJECT => {
                let mut bytes = [0; INLINE_SUBJECT];
                match bytes.get_mut(..s.len()) {
                    Some(dst) => {
                        dst.copy_from_slice(s.as_bytes());
                        Subject::Inline { len, bytes }
                    }
                    None => Subject::Heap(s.into()),
                }
            }
            _ => Subject::Heap(s.into()),
        }
    }

    fn as_bytes(&self) -> &[u8] {
        match self {
            Subject::Inline { len, bytes } => bytes.get(..usize::from(*len)).unwrap_or(bytes),
            Subject::Heap(s) => s.as_bytes(),
        }
    }
}

/// The key of a subject bucket: resource filter number and subject filter.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SubjectKey {
    resource: u32,
    subject: Subject,
}

/// A subject bucket's key, borrowed: what a look-up needs, without allocating.
#[derive(Debug, Clone, Copy)]
struct SubjectProbe<'a> {
    resource: u32,
    subject: &'a str,
}

/// The one hash of a subject bucket key, for [`SubjectKey`] and [`SubjectProbe`] alike.
fn hash_subject_key<H: Hasher>(state: &mut H, resource: u32, subject: &[u8]) {
    state.write_u32(resource);
    state.write(subject);
    state.write_u8(0xff);
}

impl Hash for SubjectKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_subject_key(state, self.resource, self.subject.as_bytes());
    }
}

impl Hash for SubjectProbe<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_subject_key(state, self.resource, self.subject.as_bytes());
    }
}

impl Equivalent<SubjectKey> for SubjectProbe<'_> {
    fn equivalent(&self, key: &SubjectKey) -> bool {
        key.resource == self.resource && key.subject.as_bytes() == self.subject.as_bytes()
    }
}

impl From<&SubjectProbe<'_>> for SubjectKey {
    fn from(probe: &SubjectProbe<'_>) -> Self {
        SubjectKey {
            resource: probe.resource,
            subject: Subject::new(probe.subject),
        }
    }
}

/// One validated subscription in a bucket: what matching needs, in 16 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Slot {
    id: SubscriptionId,
    /// Type filter number + 1; 0 when the subscription has no type filter.
    type_: u32,
    /// (Source filter number + 1, or 0 when it has none) << 1 | `include_subunits`.
    bits: u32,
}

impl Slot {
    fn new(id: SubscriptionId, type_: u32, source_filter: u32, include_subunits: bool) -> Self {
        Slot {
            id,
            type_,
            bits: source_filter << 1 | u32::from(include_subunits),
        }
    }

    /// Source filter number + 1; 0 when the subscription has none.
    fn source_filter(self) -> u32 {
        self.bits >> 1
    }

    fn include_subunits(self) -> bool {
        self.bits & 1 == 1
    }
}

/// How the slots of a bucket are sorted: by id ([`Slots`]), or by type filter number, then
/// id (a resource's slots without subject filter).
type SortKey = fn(&Slot) -> (u32, SubscriptionId);

fn by_id(slot: &Slot) -> (u32, SubscriptionId) {
    (0, slot.id)
}

fn by_type_and_id(slot: &Slot) -> (u32, SubscriptionId) {
    (slot.type_, slot.id)
}

/// Put `slot` into `slots` (sorted by `key`), returning the slot with the same key it replaces.
fn insert_sorted(slots: &mut Vec<Slot>, slot: Slot, key: SortKey) -> Option<Slot> {
    match slots.binary_search_by_key(&key(&slot), key) {
        Ok(i) => slots
            .get_mut(i)
            .map(|existing| core::mem::replace(existing, slot)),
        Err(i) => {
            slots.insert(i, slot);
            None
        }
    }
}

/// Take the slot with key `wanted` out of `slots` (sorted by `key`).
fn remove_sorted(
    slots: &mut Vec<Slot>,
    wanted: (u32, SubscriptionId),
    key: SortKey,
) -> Option<Slot> {
    let i = slots.binary_search_by_key(&wanted, key).ok()?;
    Some(slots.remove(i))
}

/// The slots of one subject bucket, sorted by id. Most hold one subscription, kept inline in
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

    /// Add `slot`, returning the slot with the same id it replaces.
    fn insert(&mut self, slot: Slot) -> Option<Slot> {
        match self {
            Slots::One(one) if one.id == slot.id => Some(core::mem::replace(one, slot)),
            Slots::One(one) => {
                let pair = if one.id < slot.id {
                    vec![*one, slot]
                } else {
                    vec![slot, *one]
                };
                *self = Slots::Many(pair);
                None
            }
            Slots::Many(slots) => insert_sorted(slots, slot, by_id),
        }
    }

    /// Remove the slot of `id`: (the removed slot, true when none is left).
    fn remove(&mut self, id: SubscriptionId) -> (Option<Slot>, bool) {
        match self {
            Slots::One(one) if one.id == id => (Some(*one), true),
            Slots::One(_) => (None, false),
            Slots::Many(slots) => {
                let removed = remove_sorted(slots, (0, id), by_id);
                match slots.as_slice() {
                    [] => return (removed, true),
                    [one] => *self = Slots::One(*one),
                    _ => {}
                }
                (removed, false)
            }
        }
    }
}

/// The validated subscriptions, bucketed for matching.
#[derive(Debug, Clone, Default)]
struct Buckets {
    /// Resource filters; each one's value holds its subscriptions without subject filter,
    /// sorted by type filter number (those without type filter first), then id. A reference
    /// per validated subscription naming it.
    resources: Interner<Vec<Slot>>,
    /// Type filters; a reference per validated subscription naming it.
    types: Interner<()>,
    /// Source filters by their text; a reference per validated subscription naming it.
    source_filters: Interner<Option<AbsoluteUri>>,
    /// (resource filter number, subject filter) → slots; no empty buckets.
    subjects: HashMap<SubjectKey, Slots>,
}

impl Buckets {
    /// Put a validated `entry` into its bucket (replacing a slot with the same id).
    fn link(&mut self, entry: &MatchEntry) {
        let resource = self.resources.acquire(&entry.resource, Vec::new);
        let type_ = entry
            .type_
            .as_deref()
            .map_or(0, |t| self.types.acquire(t, || ()).saturating_add(1));
        let source_filter = entry.source_filter.as_ref().map_or(0, |f| {
            self.source_filters
                .acquire(f.as_str(), || Some(f.clone()))
                .saturating_add(1)
        });
        let slot = Slot::new(entry.id, type_, source_filter, entry.include_subunits);
        let replaced = match entry.subject.as_deref() {
            None => self
                .resources
                .value_mut(resource)
                .and_then(|slots| insert_sorted(slots, slot, by_type_and_id)),
            Some(subject) => match self.subjects.entry_ref(&SubjectProbe { resource, subject }) {
                EntryRef::Occupied(mut occupied) => occupied.get_mut().insert(slot),
                EntryRef::Vacant(vacant) => {
                    vacant.insert(Slots::One(slot));
                    None
                }
            },
        };
        if let Some(old) = replaced {
            self.release(resource, old);
        }
    }

    /// Take `entry` out of its bucket, dropping the bucket when it is left empty and the
    /// filters no other subscription names.
    fn unlink(&mut self, entry: &MatchEntry) {
        let Some(resource) = self.resources.get(&entry.resource) else {
            return;
        };
        let removed = match entry.subject.as_deref() {
            None => {
                let type_ = match entry.type_.as_deref() {
                    None => 0,
                    Some(t) => self.types.get(t).map_or(u32::MAX, |t| t.saturating_add(1)),
                };
                self.resources
                    .value_mut(resource)
                    .and_then(|slots| remove_sorted(slots, (type_, entry.id), by_type_and_id))
            }
            Some(subject) => {
                let probe = SubjectProbe { resource, subject };
                let (removed, empty) = match self.subjects.get_mut(&probe) {
                    Some(slots) => slots.remove(entry.id),
                    None => (None, false),
                };
                if empty {
                    self.subjects.remove(&probe);
                }
                removed
            }
        };
        if let Some(slot) = removed {
            self.release(resource, slot);
        }
    }

    /// Drop the references a slot of `resource` held.
    fn release(&mut self, resource: u32, slot: Slot) {
        self.resources.release(resource);
        if let Some(t) = slot.type_.checked_sub(1) {
            self.types.release(t);
        }
        if let Some(f) = slot.source_filter().checked_sub(1) {
            self.source_filters.release(f);
        }
    }
}

/// An event source whose parse would give it back unchanged, split into the parts
/// [`AbsoluteUri::is_base_of`] compares: `scheme://host/path` with a lower-case scheme and
/// host, no userinfo, port, query or fragment, and a path without `.` or `..` segments, `\`,
/// `%` or any character .NET escapes. App instance URLs are of this form; comparing them with
/// source filters then needs no [`AbsoluteUri::parse`] (which builds a normalised copy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PlainSource<'a> {
    scheme: &'a str,
    host: &'a str,
    path: &'a str,
}

/// Byte classes of a plain source, one table lookup per byte.
const SCHEME: u8 = 1;
const HOST: u8 = 2;
const PATH: u8 = 4;
// Evaluated at compile time: an index out of bounds here is a compile error, not a panic.
#[allow(clippy::indexing_slicing)]
const PLAIN_BYTES: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        let lower_or_digit = c.is_ascii_lowercase() || c.is_ascii_digit();
        let mut class = 0;
        if lower_or_digit || matches!(c, b'+' | b'-' | b'.') {
            class |= SCHEME;
        }
        if lower_or_digit || matches!(c, b'.' | b'-' | b'_' | b'~') {
            class |= HOST;
        }
        // Printable ASCII that parsing neither escapes nor reads as a delimiter.
        if matches!(c, b'!'..=b'~')
            && !matches!(
                c,
                b'"' | b'<' | b'>' | b'\\' | b'^' | b'`' | b'{' | b'|' | b'}' | b'%' | b'?' | b'#'
            )
        {
            class |= PATH;
        }
        table[b] = class;
        b += 1;
    }
    table
};

fn is(byte: u8, class: u8) -> bool {
    PLAIN_BYTES
        .get(usize::from(byte))
        .is_some_and(|c| c & class != 0)
}

impl<'a> PlainSource<'a> {
    /// `source` in parts, if it is plain; `None` means "parse it". One pass over the bytes.
    fn of(source: &'a str) -> Option<Self> {
        let bytes = source.as_bytes();
        let scheme_len = bytes.iter().position(|&b| !is(b, SCHEME))?;
        let rest = bytes.get(scheme_len..)?;
        let first_ok = bytes.first().is_some_and(u8::is_ascii_lowercase);
        if scheme_len == 0 || !first_ok || !rest.starts_with(b"://") {
            return None;
        }
        let after_scheme = rest.get(3..)?;
        let host_len = after_scheme.iter().position(|&b| !is(b, HOST))?;
        if host_len == 0 || after_scheme.get(host_len) != Some(&b'/') {
            return None;
        }
        // A `.` right after a `/` may start a `.` or `..` segment: look closer then.
        let mut previous = 0;
        let mut dot_after_slash = false;
        for &b in after_scheme.get(host_len..)? {
            if !is(b, PATH) {
                return None;
            }
            dot_after_slash |= previous == b'/' && b == b'.';
            previous = b;
        }
        let (scheme, rest) = source.split_at_checked(scheme_len)?;
        let (host, path) = rest.get(3..)?.split_at_checked(host_len)?;
        if dot_after_slash
            && path
                .split('/')
                .any(|segment| segment == "." || segment == "..")
        {
            return None;
        }
        Some(PlainSource { scheme, host, path })
    }

    /// [`AbsoluteUri::is_base_of`] of `filter` and this source parsed.
    fn is_based_on(&self, filter: &AbsoluteUri) -> bool {
        let path = filter.path();
        let base = path.rfind('/').map_or("/", |i| &path[..=i]);
        filter.scheme() == self.scheme
            && filter.host() == self.host
            && filter.port().is_none()
            && self.path.starts_with(base)
    }
}

/// An event source as far as matching has needed it.
enum Source<'e> {
    /// Not looked at yet.
    Unread(&'e str),
    Plain(PlainSource<'e>),
    /// Parsed; `None` when it is not an absolute URI (no source filter passes then).
    Parsed(Option<AbsoluteUri>),
}

impl Source<'_> {
    /// Whether `filter` is a base of the source, as [`AbsoluteUri::is_base_of_str`] decides;
    /// the source is examined (and parsed, if it is not plain) at most once per event.
    fn passes(&mut self, filter: &AbsoluteUri) -> bool {
        if let Source::Unread(source) = *self {
            let source = source.trim_matches(|c: char| c.is_ascii_whitespace());
            *self = match PlainSource::of(source) {
                Some(plain) => Source::Plain(plain),
                None => Source::Parsed(AbsoluteUri::parse(source).ok()),
            };
        }
        match self {
            Source::Plain(plain) => plain.is_based_on(filter),
            Source::Parsed(Some(uri)) => filter.is_base_of(uri),
            Source::Parsed(None) | Source::Unread(_) => false,
        }
    }
}

/// What one event is matched with: its type's number and its source.
struct Candidates<'a, 'e> {
    buckets: &'a Buckets,
    /// Type filter number + 1 of the event type; 0 when no subscription names it.
    type_: u32,
    /// `None` when the event has no source (source filters are then not applied).
    source: Option<Source<'e>>,
    /// The last source filter checked and its outcome: a resource's subscriptions tend to
    /// share one (their app's URL).
    last_filter: Option<(u32, bool)>,
    sorted: bool,
}

impl Candidates<'_, '_> {
    /// Add the slots that pass the type and source filters (and have `include_subunits`, when
    /// `subunits_only`) to `out`.
    fn add(&mut self, slots: &[Slot], subunits_only: bool, out: &mut Vec<SubscriptionId>) {
        for &slot in slots {
            if slot.type_ != 0 && slot.type_ != self.type_ {
                continue;
            }
            if subunits_only && !slot.include_subunits() {
                continue;
            }
            if let (Some(filter), Some(source)) =
                (slot.source_filter().checked_sub(1), self.source.as_mut())
            {
                let passes = match self.last_filter {
                    Some((last, passes)) if last == filter => passes,
                    _ => {
                        let passes = match self.buckets.source_filters.value(filter) {
                            Some(Some(uri)) => source.passes(uri),
                            _ => true,
                        };
                        self.last_filter = Some((filter, passes));
                        passes
                    }
                };
                if !passes {
                    continue;
                }
            }
            if out.last().is_some_and(|&last| last >= slot.id) {
                self.sorted = false;
            }
            out.push(slot.id);
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
    /// The validated entries, for matching.
    buckets: Buckets,
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
            .and_then(|&pos| self.entries.get_mut(pos));
        if let Some(old) = existing {
            if old.validated {
                self.buckets.unlink(old);
            }
            if entry.validated {
                self.buckets.link(&entry);
            }
            *old = entry;
        } else {
            if entry.validated {
                self.buckets.link(&entry);
            }
            self.positions.insert(entry.id, self.entries.len());
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
            self.buckets.unlink(&entry);
        }
        // The last entry moved into `pos`.
        if let Some(moved) = self.entries.get(pos) {
            self.positions.insert(moved.id, pos);
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
                self.buckets.link(entry);
            } else {
                self.buckets.unlink(entry);
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
    /// At most four hash look-ups. Allocates nothing beyond growing `out`, except one parse
    /// of the event source when a candidate has a source filter and the source is not in
    /// normal form.
    pub fn matches(&self, event: &EventKey<'_>, out: &mut Vec<SubscriptionId>) {
        out.clear();
        let buckets = &self.buckets;
        let Some(resource) = buckets.resources.get(event.resource) else {
            return;
        };
        let mut candidates = Candidates {
            buckets,
            type_: buckets.types.get(event.type_).map_or(0, |t| t + 1),
            source: event.source.map(Source::Unread),
            last_filter: None,
            sorted: true,
        };
        if let Some(slots) = buckets.resources.value(resource) {
            // Without type filter first, then by type filter: two ranges to read.
            let any_type = slots.partition_point(|s| s.type_ == 0);
            let (untyped, typed) = slots.split_at(any_type);
            candidates.add(untyped, false, out);
            if candidates.type_ != 0 {
                let start = typed.partition_point(|s| s.type_ < candidates.type_);
                let typed = typed.get(start..).unwrap_or_default();
                let len = typed.partition_point(|s| s.type_ == candidates.type_);
                candidates.add(typed.get(..len).unwrap_or_default(), false, out);
            }
        }
        let subject = event.subject;
        // A main unit equal to the event subject adds nothing the direct look-up does not find.
        let main = event.main_unit_subject.filter(|m| subject != Some(*m));
        for (subject, subunits_only) in [(subject, false), (main, true)] {
            let Some(subject) = subject else {
                continue;
            };
            if let Some(slots) = buckets.subjects.get(&SubjectProbe { resource, subject }) {
                candidates.add(slots.as_slice(), subunits_only, out);
            }
        }
        if !candidates.sorted {
            out.sort_unstable();
            out.dedup();
        }
    }

    /// The buckets as (resource, subject filter, type filter) → ids, resolved back to names
    /// (tests).
    #[cfg(test)]
    #[allow(clippy::type_complexity)]
    fn bucket_view(
        &self,
    ) -> alloc::collections::BTreeMap<(String, Option<String>, Option<String>), Vec<SubscriptionId>>
    {
        let b = &self.buckets;
        let resources = b.resources.names();
        let types = b.types.names();
        let type_name = |slot: &Slot| {
            slot.type_
                .checked_sub(1)
                .map(|t| types.get(&t).copied().unwrap_or("?").to_string())
        };
        let mut view = alloc::collections::BTreeMap::new();
        let mut add = |resource: &str, subject: Option<String>, slots: &[Slot]| {
            for slot in slots {
                view.entry((resource.to_string(), subject.clone(), type_name(slot)))
                    .or_insert_with(Vec::new)
                    .push(slot.id);
            }
        };
        for (&n, &name) in &resources {
            if let Some(slots) = b.resources.value(n) {
                add(name, None, slots);
            }
        }
        for (key, slots) in &b.subjects {
            assert!(!slots.as_slice().is_empty(), "empty subject bucket");
            let resource = resources.get(&key.resource).copied().unwrap_or("?");
            let subject = String::from_utf8_lossy(key.subject.as_bytes()).into_owned();
            add(resource, Some(subject), slots.as_slice());
        }
        view
    }

    /// Interned (resources, types, source filters) in use (tests).
    #[cfg(test)]
    fn interned(&self) -> (usize, usize, usize) {
        let b = &self.buckets;
        (
            b.resources.numbers.len(),
            b.types.numbers.len(),
            b.source_filters.numbers.len(),
        )
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
        MainUnitFormat::Party => crate::identity::PartyId(party_id).subject(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ids as plain numbers, so the tables stay readable.
    type Id = i64;
    use alloc::vec;

    const RES: &str = "urn:altinn:resource:app_ttd_app";
    const OTHER_RES: &str = "urn:altinn:resource:other";

    fn uri(s: &str) -> AbsoluteUri {
        match AbsoluteUri::parse(s) {
            Ok(u) => u,
            Err(e) => panic!("{s:?} should parse: {e}"),
        }
    }

    fn entry(id: Id, resource: &str, subject: Option<&str>, type_: Option<&str>) -> MatchEntry {
        MatchEntry {
            id: SubscriptionId(id),
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

    fn run(index: &SubscriptionIndex, event: &EventKey<'_>) -> Vec<Id> {
        // Start from garbage to check that `matches` clears `out`.
        let mut out = vec![SubscriptionId(-1), SubscriptionId(-2), SubscriptionId(-3)];
        index.matches(event, &mut out);
        out.into_iter().map(|id| id.0).collect()
    }

    /// Spec §9 steps 1–3 written out as a linear scan, to check the index against.
    fn naive(entries: &[MatchEntry], event: &EventKey<'_>) -> Vec<Id> {
        let mut ids: Vec<Id> = entries
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
            .map(|e| e.id.0)
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
        let cases: &[(EventKey<'_>, &[Id])] = &[
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
            assert_eq!(run(&index, &ev), Vec::<Id>::new(), "{ev:?}");
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
            let expected: &[Id] = if kept { &[1, 2, 3] } else { &[1, 3] };
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
        let cases: &[(Option<&str>, Option<&str>, &str, Option<&str>, &[Id])] = &[
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
        let steps: &[(Option<MatchEntry>, &[(EventKey<'_>, &[Id])])] = &[
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
                assert_eq!(index.get(SubscriptionId(1)), Some(e), "step {i}");
            }
            assert_eq!(index.len(), 2, "step {i}");
            for (ev, expected) in *checks {
                assert_eq!(run(&index, ev), *expected, "step {i} {ev:?}");
            }
        }
        // Moving out of a bucket leaves no empty buckets or resources behind.
        index.upsert(moved);
        assert_eq!(index.bucket_view().len(), 2);
        index.upsert(entry(1, RES, None, None));
        assert_eq!(index.bucket_view().len(), 1);
        let view = index.bucket_view();
        let bucket = view.get(&(RES.to_string(), None, None));
        assert_eq!(bucket.map(Vec::len), Some(2));
        assert_eq!(index.interned(), (1, 0, 0));
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
        let cases: &[(Id, Option<&MatchEntry>, usize, &[Id])] = &[
            (4, None, 3, &[1, 2]),
            (2, Some(&entries[1]), 2, &[1]),
            (2, None, 2, &[1]),
            (3, Some(&entries[2]), 1, &[1]),
            (1, Some(&entries[0]), 0, &[]),
        ];
        for &(id, removed, len, expected) in cases {
            assert_eq!(
                index.remove(SubscriptionId(id)).as_ref(),
                removed,
                "remove {id}"
            );
            assert_eq!(index.get(SubscriptionId(id)), None, "get {id}");
            assert_eq!(index.len(), len, "len after {id}");
            assert_eq!(index.is_empty(), len == 0, "is_empty after {id}");
            assert_eq!(run(&index, &ev), expected, "matches after {id}");
        }
        assert!(index.bucket_view().is_empty());
        assert_eq!(index.interned(), (0, 0, 0));
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
        let cases: &[(Id, bool, bool, Option<bool>, &[Id])] = &[
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
                index.set_validated(SubscriptionId(id), validated),
                returned,
                "{id} {validated}"
            );
            assert_eq!(
                index.get(SubscriptionId(id)).map(|e| e.validated),
                flag,
                "{id} {validated}"
            );
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
        let expected: &[Id] = &[
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
            let expected: Vec<Id> = rounds.iter().map(|q| q * RESOURCES + r).collect();
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
        let mut model: alloc::collections::BTreeMap<Id, MatchEntry> =
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
                    assert_eq!(
                        index.remove(SubscriptionId(id)),
                        model.remove(&id),
                        "step {step}"
                    );
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
                    assert_eq!(
                        index.set_validated(SubscriptionId(id), validated),
                        known,
                        "step {step}"
                    );
                }
            }
            assert_eq!(index.len(), model.len(), "step {step}");
            let all: Vec<MatchEntry> = model.values().cloned().collect();
            // The interned filters are exactly those of the validated entries.
            let validated = || all.iter().filter(|e| e.validated);
            let distinct = |names: Vec<&str>| {
                names
                    .into_iter()
                    .collect::<alloc::collections::BTreeSet<_>>()
                    .len()
            };
            let expected = (
                distinct(validated().map(|e| e.resource.as_str()).collect()),
                distinct(validated().filter_map(|e| e.type_.as_deref()).collect()),
                distinct(
                    validated()
                        .filter_map(|e| e.source_filter.as_ref().map(AbsoluteUri::as_str))
                        .collect(),
                ),
            );
            assert_eq!(index.interned(), expected, "step {step}");
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
    fn plain_sources_decide_as_a_parse_would() {
        let filters = [
            "https://ttd.apps.altinn.no/ttd/app",
            "https://ttd.apps.altinn.no/ttd/app/",
            "https://ttd.apps.altinn.no",
            "http://ttd.apps.altinn.no/ttd/",
            "https://ttd.apps.altinn.no:8443/ttd/app",
            "https://user@ttd.apps.altinn.no/ttd/app",
            "HTTPS://TTD.apps.altinn.no:443/ttd/a%20b/c",
            "https://ttd.apps.altinn.no/ttd/../ttd/app/x",
            "ftp://h/a/",
            "x-y+z.1://h/",
        ];
        // (source, plain)
        let sources: &[(&str, bool)] = &[
            (
                "https://ttd.apps.altinn.no/ttd/app/instances/1337/0b5a3b8e",
                true,
            ),
            ("https://ttd.apps.altinn.no/ttd/app", true),
            ("https://ttd.apps.altinn.no/", true),
            ("https://ttd.apps.altinn.no/ttd//app/", true),
            ("https://ttd.apps.altinn.no/ttd/a.b/..c/.d/", true),
            ("http://ttd.apps.altinn.no/ttd/x", true),
            ("x-y+z.1://h/q", true),
            ("ftp://h/a/b", true),
            ("https://ttd.apps.altinn.no", false),
            ("https://TTD.apps.altinn.no/ttd/app/1", false),
            ("HTTPS://ttd.apps.altinn.no/ttd/app/1", false),
            ("https://ttd.apps.altinn.no:443/ttd/app/1", false),
            ("https://ttd.apps.altinn.no:8443/ttd/app/1", false),
            ("https://user@ttd.apps.altinn.no/ttd/app/1", false),
            ("https://ttd.apps.altinn.no/ttd/app/1?x=1", false),
            ("https://ttd.apps.altinn.no/ttd/app/1#f", false),
            ("https://ttd.apps.altinn.no/ttd/./app/1", false),
            ("https://ttd.apps.altinn.no/ttd/x/../app/1", false),
            ("https://ttd.apps.altinn.no/ttd/app/..", false),
            ("https://ttd.apps.altinn.no/ttd\\app/1", false),
            ("https://ttd.apps.altinn.no/ttd/a%20b/c/1", false),
            ("https://ttd.apps.altinn.no/ttd/a%zz", false),
            ("https://ttd.apps.altinn.no/ttd/å/1", false),
            ("https://ttd.apps.altinn.no/ttd/a{b}/1", false),
            ("https://ttd.apps.altinn.no/ttd/a b", false),
            ("https://[::1]/ttd/app/1", false),
            ("https:///ttd/app/1", false),
            ("1https://h/x", false),
            ("https:/h/x", false),
            ("urn:altinn:resource:x", false),
            ("/party/1", false),
            ("", false),
        ];
        for (source, plain) in sources {
            assert_eq!(PlainSource::of(source).is_some(), *plain, "{source}");
            if *plain {
                // What makes the shortcut exact: a plain source parses to itself.
                assert_eq!(uri(source).as_str(), *source);
            }
            for filter in filters {
                let filter = uri(filter);
                assert_eq!(
                    Source::Unread(source).passes(&filter),
                    filter.is_base_of_str(source),
                    "{filter} {source}"
                );
            }
        }
        // Random strings over the characters that matter agree too.
        let alphabet = b"hHtps:/.a-_~1@?#%\\ []{}8";
        let mut state: u64 = 0x5eed;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            usize::try_from(state % n as u64).unwrap_or(0)
        };
        let filter = uri("https://h/a/");
        let (mut plain, mut passed) = (0, 0);
        for _ in 0..20_000 {
            let len = next(12);
            let tail: String = (0..len)
                .map(|_| char::from(alphabet[next(alphabet.len())]))
                .collect();
            let head = ["https://h", "https://h/a", "https://h/a/"][next(3)];
            let source = format!("{head}{tail}");
            if PlainSource::of(&source).is_some() {
                assert_eq!(uri(&source).as_str(), source);
                plain += 1;
            }
            let passes = Source::Unread(&source).passes(&filter);
            assert_eq!(passes, filter.is_base_of_str(&source), "{source}");
            passed += usize::from(passes);
        }
        assert!(plain > 200 && passed > 20, "{plain} plain, {passed} passed");
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
