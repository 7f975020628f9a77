//! The inputs of the core benchmarks, shared by `benches/core.rs` (native, criterion) and
//! `tests/wasm_bench.rs` (wasm32 in Node), so both columns of BENCHMARKS.md measure the
//! same work. Everything is generated from fixed seeds: every run sees the same bytes.
//!
//! Included with `#[path]`; not every user needs every item.
#![allow(dead_code)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use events_core::authz::builtin::{Party, PolicyData, ResourcePolicy};
use events_core::authz::mapping::{generic_event_resource, generic_read_request};
use events_core::authz::xacml::DecisionRequest;
use events_core::identity::Claims;
use events_core::matching::{EventKey, MatchEntry, SubscriptionId, SubscriptionIndex};
use events_core::uri::AbsoluteUri;
use events_core::CloudEvent;

/// xorshift64* (Vigna): small, fast and good enough for picking workload shapes.
#[derive(Clone, Debug)]
pub struct XorShift(u64);

impl XorShift {
    pub fn new(seed: u64) -> Self {
        XorShift(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform-enough in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        // The high bits of xorshift64* are the good ones.
        ((u128::from(self.next_u64() >> 32) * u128::from(n)) >> 32) as u64
    }

    /// True with probability `percent` / 100.
    pub fn percent(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// A lower-case GUID.
    pub fn guid(&mut self) -> String {
        let a = self.next_u64();
        let b = self.next_u64();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | ((b >> 48) & 0x3fff),
            b & 0xffff_ffff_ffff
        )
    }
}

// ---------------------------------------------------------------------------------------
// cloudevent_parse

/// A realistic structured-mode CloudEvent of about 1 KiB, as an app or service owner
/// publishes it: the required attributes, subject, fractional time, Altinn's extensions
/// (resource, resourceinstance, alternativesubject), three more extensions (string, integer,
/// boolean) and a nested JSON `data` object.
pub fn cloud_event_json() -> Vec<u8> {
    let body = r#"{"specversion":"1.0","id":"6e1f1f8a-9b2c-4d3e-8f4a-5b6c7d8e9f01","source":"https://ttd.apps.altinn.no/ttd/bench-app/instances/50001337/0b5a3b8e-6d7c-4f1e-9a2b-3c4d5e6f7a8b","type":"app.instance.process.completed","subject":"/party/50001337","time":"2026-11-24T10:00:00.1234567+01:00","resource":"urn:altinn:resource:ttd-bench-service","resourceinstance":"50001337/0b5a3b8e-6d7c-4f1e-9a2b-3c4d5e6f7a8b","alternativesubject":"/person/01017012345","correlationid":"c0ffee00-1234-4abc-8def-0123456789ab","priority":3,"confidential":false,"datacontenttype":"application/json","data":{"instance":{"id":"50001337/0b5a3b8e-6d7c-4f1e-9a2b-3c4d5e6f7a8b","appId":"ttd/bench-app","org":"ttd","instanceOwner":{"partyId":"50001337","personNumber":"01017012345"},"process":{"currentTask":{"flow":3,"elementId":"Task_2","altinnTaskType":"signing","ended":null,"validated":{"canCompleteTask":true}}},"status":{"isArchived":false,"readStatus":"Read","substatus":{"label":"venter på signatur"}},"dataValues":{"amount":12500.5,"tags":["bench","signing"]}},"performedBy":{"userId":1337}}}"#;
    body.as_bytes().to_vec()
}

// ---------------------------------------------------------------------------------------
// matching

/// Subscribed resources (`urn:altinn:resource:bench-0000` … `bench-1999`).
pub const RESOURCES: u64 = 2_000;
/// Event types.
pub const TYPES: u64 = 20;
/// Parties subjects are drawn from (`/party/50000000` …).
pub const PARTIES: u64 = 200_000;
/// Length of the event stream: large enough that the events of one pass touch more index
/// memory than the caches hold at 1 000 000 subscriptions.
pub const EVENTS: usize = 1 << 16;

pub fn resource(r: u64) -> String {
    format!("urn:altinn:resource:bench-{r:04}")
}

pub fn event_type(t: u64) -> String {
    format!("app.instance.process.step{t}")
}

pub fn party_subject(p: u64) -> String {
    format!("/party/{}", 50_000_000 + p)
}

/// The app that publishes resource `r`'s events; subscriptions with a source filter name it.
pub fn app_url(r: u64) -> String {
    format!("https://ttd.apps.altinn.no/ttd/bench-app-{r:04}")
}

/// `n` subscriptions: a uniform resource of [`RESOURCES`], subject filter `/party/{id}`
/// (10 % none), one of [`TYPES`] types (30 % none), 95 % validated, 10 % with a source filter
/// (their resource's app), ids 1..=n.
pub fn subscriptions(n: usize) -> Vec<MatchEntry> {
    let mut rng = XorShift::new(0x5eed_0001);
    (0..n)
        .map(|i| {
            let r = rng.below(RESOURCES);
            let subject = (!rng.percent(10)).then(|| party_subject(rng.below(PARTIES)));
            let type_ = (!rng.percent(30)).then(|| event_type(rng.below(TYPES)));
            let validated = rng.percent(95);
            let source_filter = rng
                .percent(10)
                .then(|| AbsoluteUri::parse(&app_url(r)).expect("source filter parses"));
            MatchEntry {
                id: SubscriptionId(i as i64 + 1),
                resource: resource(r),
                subject,
                type_,
                source_filter,
                include_subunits: false,
                validated,
                consumer: format!("/org/org{}", i % 97),
            }
        })
        .collect()
}

/// One event of the stream, owned.
#[derive(Clone, Debug)]
pub struct BenchEvent {
    pub resource: String,
    pub subject: Option<String>,
    pub type_: String,
    pub source: String,
}

/// [`EVENTS`] events: half derived from a random validated subscription (its resource, its
/// subject and type or random ones where it has none), so they match at least it; half about
/// resources no subscription names (`bench-2000` … `bench-3999`), so they match nothing.
pub fn bench_events(subscriptions: &[MatchEntry]) -> Vec<BenchEvent> {
    let mut rng = XorShift::new(0x5eed_0002);
    let validated: Vec<&MatchEntry> = subscriptions.iter().filter(|s| s.validated).collect();
    (0..EVENTS)
        .map(|_| {
            let party = rng.below(PARTIES);
            let (r, subject, type_) = match validated.len() {
                0 => (RESOURCES + rng.below(RESOURCES), None, None),
                len if rng.percent(50) => {
                    let s = validated[rng.below(len as u64) as usize];
                    let r = s.resource["urn:altinn:resource:bench-".len()..]
                        .parse::<u64>()
                        .expect("bench resource");
                    (r, s.subject.clone(), s.type_.clone())
                }
                _ => (RESOURCES + rng.below(RESOURCES), None, None),
            };
            let subject = subject.unwrap_or_else(|| party_subject(party));
            let type_ = type_.unwrap_or_else(|| event_type(rng.below(TYPES)));
            let source = format!(
                "{}/instances/{}/{}",
                app_url(r),
                &subject["/party/".len()..],
                rng.guid()
            );
            BenchEvent {
                resource: resource(r),
                subject: Some(subject),
                type_,
                source,
            }
        })
        .collect()
}

/// [`bench_events`] as a stream: the text of all events in one buffer, in order, as a
/// worker would have each event's attributes at hand right after parsing it. Reading the
/// stream is sequential, so the matching figures measure the index, not scattered strings.
pub struct EventStream {
    text: String,
    /// Per event: (start, end) of resource, subject (`start > end`: none), type, source.
    spans: Vec<[(u32, u32); 4]>,
}

impl EventStream {
    pub fn new(events: &[BenchEvent]) -> Self {
        let mut text = String::new();
        let mut push = |s: Option<&str>| match s {
            Some(s) => {
                let start = text.len() as u32;
                text.push_str(s);
                (start, text.len() as u32)
            }
            None => (1, 0),
        };
        let spans = events
            .iter()
            .map(|e| {
                [
                    push(Some(&e.resource)),
                    push(e.subject.as_deref()),
                    push(Some(&e.type_)),
                    push(Some(&e.source)),
                ]
            })
            .collect();
        EventStream { text, spans }
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Event `i`.
    pub fn key(&self, i: usize) -> EventKey<'_> {
        let [resource, subject, type_, source] = self.spans[i];
        let text = |(start, end): (u32, u32)| self.text.get(start as usize..end as usize);
        EventKey {
            resource: text(resource).unwrap_or_default(),
            subject: text(subject),
            type_: text(type_).unwrap_or_default(),
            source: text(source),
            main_unit_subject: None,
        }
    }
}

/// The benchmark's event stream for `subscriptions`.
pub fn events(subscriptions: &[MatchEntry]) -> EventStream {
    EventStream::new(&bench_events(subscriptions))
}

/// The index of `subscriptions`.
pub fn index(subscriptions: &[MatchEntry]) -> SubscriptionIndex {
    let mut index = SubscriptionIndex::new();
    for s in subscriptions {
        index.upsert(s.clone());
    }
    index
}

/// What a stream does against an index: (events matching something, ids in all).
pub fn match_stats(index: &SubscriptionIndex, events: &EventStream) -> (usize, usize) {
    let mut out = Vec::new();
    let mut matching = 0;
    let mut ids = 0;
    for i in 0..events.len() {
        index.matches(&events.key(i), &mut out);
        matching += usize::from(!out.is_empty());
        ids += out.len();
    }
    (matching, ids)
}

/// The baseline: every subscription checked in turn (no index), same rules as
/// [`SubscriptionIndex::matches`] for events without a main unit.
pub fn linear_scan(subscriptions: &[MatchEntry], event: &EventKey<'_>, out: &mut Vec<i64>) {
    out.clear();
    let source = event.source.and_then(|s| AbsoluteUri::parse(s).ok());
    for s in subscriptions {
        if s.validated
            && s.resource == event.resource
            && (s.subject.is_none() || s.subject.as_deref() == event.subject)
            && s.type_.as_deref().is_none_or(|t| t == event.type_)
            && match (&s.source_filter, event.source) {
                (Some(filter), Some(_)) => source.as_ref().is_some_and(|u| filter.is_base_of(u)),
                _ => true,
            }
        {
            out.push(s.id.0);
        }
    }
}

// ---------------------------------------------------------------------------------------
// authz

/// Events in the multi-decision request.
pub const AUTHZ_EVENTS: usize = 50;

/// A user reading generic events of one resource: the caller, 50 events about five parties,
/// and the PDP's data (the resource's rule document — the owner, a role rule for subscribe
/// and an org rule for publish — and the five parties, for two of which the user holds a role).
pub struct AuthzWorkload {
    pub caller: Claims,
    pub events: Vec<CloudEvent>,
    pub data: PolicyData,
}

pub fn authz_workload() -> AuthzWorkload {
    let claims = serde_json::json!({
        "urn:altinn:userid": "1337",
        "urn:altinn:partyid": 50001337,
        "urn:altinn:authlevel": 2,
        "urn:altinn:authenticatemethod": "BankID",
        "scope": "altinn:events.subscribe altinn:portal/enduser",
        "jti": "2b1f6c8e-7a4d-4e2f-9c1b-0a9d8e7f6c5b",
        "iss": "https://platform.tt02.altinn.no/authentication/api/v1/openid/",
        "exp": 1_900_000_000,
    });
    let caller = Claims::new(claims.as_object().cloned().unwrap_or_default());
    let resource_id = "ttd-bench-authz";
    let parties: [i64; 5] = [50001337, 50002001, 50002002, 50002003, 50002004];
    let mut rng = XorShift::new(0x5eed_0003);
    let events = (0..AUTHZ_EVENTS)
        .map(|_| {
            let party = parties[rng.below(parties.len() as u64) as usize];
            let instance = rng.guid();
            let mut e = CloudEvent::new(
                &rng.guid(),
                &format!("https://ttd.apps.altinn.no/ttd/bench-app/instances/{party}/{instance}"),
                "app.instance.process.completed",
            );
            e.set("subject", format!("/party/{party}"));
            e.set("resource", format!("urn:altinn:resource:{resource_id}"));
            e.set("resourceinstance", format!("{party}/{instance}"));
            e
        })
        .collect();
    let policy = ResourcePolicy::parse(
        br#"{"owner":"ttd","rules":[
            {"actions":["subscribe","read"],"subjects":[{"urn:altinn:rolecode":"DAGL"},{"urn:altinn:rolecode":"PRIV"}]},
            {"actions":["publish"],"subjects":[{"urn:altinn:org":"digdir"}]}]}"#,
    )
    .expect("rule document parses");
    let mut data = PolicyData::default();
    data.resources.insert(resource_id.into(), policy);
    for (i, &party_id) in parties.iter().enumerate() {
        let roles = match i {
            0 => r#"{"1337":["PRIV"]}"#,
            1 => r#"{"1337":["DAGL","REGNA"],"42":["DAGL"]}"#,
            _ => r#"{"42":["DAGL"]}"#,
        };
        let party = Party::parse(party_id, format!(r#"{{"roles":{roles}}}"#).as_bytes())
            .expect("party parses");
        data.parties.push(party);
    }
    data.user_parties.insert("1337".into(), 50001337);
    AuthzWorkload {
        caller,
        events,
        data,
    }
}

impl AuthzWorkload {
    /// The multi-decision request for every event (the timed "build" part).
    pub fn request(&self) -> DecisionRequest {
        let resources = self
            .events
            .iter()
            .map(|e| generic_event_resource(e, None))
            .collect();
        generic_read_request(&self.caller, resources)
    }
}
