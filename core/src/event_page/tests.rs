//! Filling a page across authorization: one test per rule.

use alloc::format;
use alloc::string::ToString;
use alloc::vec;
use alloc::vec::Vec;
use wasm_bindgen_test::wasm_bindgen_test;

use super::*;
use crate::authz::mapping::ATTR_EVENT_ID;
use crate::authz::xacml::{Attribute, Decision, DecisionResult, CATEGORY_RESOURCE};

fn claims() -> Claims {
    let mut map = serde_json::Map::new();
    map.insert("urn:altinn:org".into(), "ttd".into());
    Claims::new(map)
}

fn generic(size: u32) -> EventPage {
    EventPage::new(
        claims(),
        Some("urn:altinn:resource:r".into()),
        false,
        size,
        (0, 0),
    )
    .unwrap()
}

fn row(seq: i64) -> PageRow {
    PageRow {
        seq,
        id: format!("e{seq}"),
        source: "https://x.example/s".into(),
        subject: Some(format!("/s/{seq}")),
        type_: "t".into(),
        resource_instance: None,
        json: format!("{{\"id\":\"e{seq}\"}}"),
    }
}

fn rows(from: i64, to: i64) -> Vec<PageRow> {
    (from..=to).map(row).collect()
}

/// A PDP answer permitting the events whose sequence number passes `permit`.
fn answer(rows: &[PageRow], permit: impl Fn(i64) -> bool) -> DecisionResponse {
    DecisionResponse {
        results: rows
            .iter()
            .map(|r| DecisionResult {
                decision: if permit(r.seq) {
                    Decision::Permit
                } else {
                    Decision::Deny
                },
                categories: vec![(
                    CATEGORY_RESOURCE.to_string(),
                    vec![Attribute::new(ATTR_EVENT_ID, &r.id, "string")],
                )],
                obligations: vec![],
            })
            .collect(),
    }
}

/// Drive a page over a log of events `1..=log`, permitting by `permit`; the reads it made.
fn drive(mut p: EventPage, log: i64, permit: impl Fn(i64) -> bool) -> (Page, Vec<Step>) {
    let mut reads = Vec::new();
    let mut asked: Vec<PageRow> = Vec::new();
    loop {
        let step = p.poll();
        match step {
            Step::Read { after, limit } => {
                reads.push(step);
                let got = rows(after + 1, (after + i64::from(limit)).min(log));
                asked = got.clone();
                p.handle_rows(got);
            }
            Step::Authorize => {
                let request = p.request(&SubjectReplacements::new());
                assert_eq!(request.resources.len(), asked.len());
                p.handle_decisions(&answer(&asked, &permit));
            }
            Step::Done => return (p.finish(), reads),
        }
    }
}

#[wasm_bindgen_test(unsupported = test)]
fn a_page_of_permitted_events_is_read_in_one_round() {
    let (page, reads) = drive(generic(3), 10, |_| true);
    assert_eq!(page.count, 3);
    assert_eq!(page.body, r#"[{"id":"e1"}, {"id":"e2"}, {"id":"e3"}]"#);
    assert_eq!(page.last_id.as_deref(), Some("e3"));
    assert_eq!(page.first_subject.as_deref(), Some("/s/1"));
    assert_eq!(reads, vec![Step::Read { after: 0, limit: 3 }]);
}

#[wasm_bindgen_test(unsupported = test)]
fn denied_events_are_skipped_and_the_page_is_filled_from_further_events() {
    let (page, reads) = drive(generic(3), 10, |seq| seq % 2 == 0);
    assert_eq!(page.body, r#"[{"id":"e2"}, {"id":"e4"}, {"id":"e6"}]"#);
    assert_eq!(page.first_subject.as_deref(), Some("/s/2"));
    assert_eq!(
        reads,
        vec![
            Step::Read { after: 0, limit: 3 },
            Step::Read { after: 3, limit: 2 },
            Step::Read { after: 5, limit: 1 },
        ]
    );
}

#[wasm_bindgen_test(unsupported = test)]
fn a_short_read_is_the_end_of_the_log() {
    let (page, reads) = drive(generic(5).after(8), 10, |_| true);
    assert_eq!(page.body, r#"[{"id":"e9"}, {"id":"e10"}]"#);
    assert_eq!(reads, vec![Step::Read { after: 8, limit: 5 }]);
    let (page, reads) = drive(generic(5), 2, |_| true);
    assert_eq!(page.count, 2);
    assert_eq!(reads.len(), 1);
    let (page, reads) = drive(generic(5), 0, |_| true);
    assert_eq!(
        (page.count, page.body.as_str(), page.last_id),
        (0, "[]", None)
    );
    assert_eq!(reads.len(), 1);
}

#[wasm_bindgen_test(unsupported = test)]
fn reading_stops_after_the_last_round_even_when_the_page_is_not_full() {
    let (page, reads) = drive(generic(2), 1_000, |_| false);
    assert_eq!(page.count, 0);
    assert_eq!(reads.len(), MAX_ROUNDS);
}

#[wasm_bindgen_test(unsupported = test)]
fn the_size_is_clamped_and_patterns_are_limited() {
    let first = |size| match generic(size).poll() {
        Step::Read { limit, .. } => limit,
        other => panic!("{other:?}"),
    };
    assert_eq!(first(0), 1);
    assert_eq!(first(50), 50);
    assert_eq!(first(20_000), MAX_SIZE);
    for patterns in [(MAX_PATTERNS + 1, 0), (0, MAX_PATTERNS + 1)] {
        let err = EventPage::new(claims(), None, false, 1, patterns).unwrap_err();
        assert_eq!(err.status, 400);
    }
    assert!(EventPage::new(claims(), None, false, 1, (MAX_PATTERNS, MAX_PATTERNS),).is_ok());
}

#[wasm_bindgen_test(unsupported = test)]
fn person_subjects_of_a_generic_read_are_looked_up_once() {
    let mut p = generic(3);
    let mut got = rows(1, 3);
    for r in &mut got {
        r.subject = Some("urn:altinn:person:identifier-no:01017012345".into());
    }
    p.handle_rows(got);
    assert_eq!(p.poll(), Step::Authorize);
    assert_eq!(
        p.lookups(),
        vec![(
            "urn:altinn:person:identifier-no:01017012345".to_string(),
            PartyKey::PersonId("01017012345".into())
        )]
    );
}

#[wasm_bindgen_test(unsupported = test)]
fn an_app_read_of_events_without_an_instance_source_asks_nothing() {
    let mut p = EventPage::new(claims(), None, true, 5, (0, 0)).unwrap();
    p.handle_rows(rows(1, 2));
    // Nothing could be asked about: the round is decided (all denied) and the log ended.
    assert_eq!(p.poll(), Step::Done);
    assert!(p.lookups().is_empty());
    assert_eq!(p.finish().count, 0);
    // An instance event is asked about with action `read`.
    let mut p = EventPage::new(claims(), None, true, 5, (0, 0)).unwrap();
    let mut r = row(1);
    r.source =
        "https://ttd.apps.altinn.no/ttd/a/instances/50001/0b6b3e06-4a4b-4bd5-9f3c-9d06bbbf2f5e"
            .into();
    p.handle_rows(vec![r.clone()]);
    assert_eq!(p.poll(), Step::Authorize);
    assert_eq!(p.request(&SubjectReplacements::new()).resources.len(), 1);
    p.handle_decisions(&answer(&[r], |_| true));
    assert_eq!(p.finish().count, 1);
}

#[wasm_bindgen_test(unsupported = test)]
fn a_cursor_that_is_not_stored_starts_at_the_oldest_kept_event() {
    // Events 1..=3 were deleted by retention; 4..=6 are kept.
    let mut p = generic(5).after_cursor(None);
    assert_eq!(p.poll(), Step::Read { after: 0, limit: 5 });
    let kept = rows(4, 6);
    p.handle_rows(kept.clone());
    p.handle_decisions(&answer(&kept, |_| true));
    let page = p.finish();
    assert_eq!(page.body, r#"[{"id":"e4"}, {"id":"e5"}, {"id":"e6"}]"#);
    // A stored cursor continues after its event.
    let p = generic(5).after_cursor(Some(5));
    assert_eq!(p.poll(), Step::Read { after: 5, limit: 5 });
}

#[wasm_bindgen_test(unsupported = test)]
fn the_position_passes_denied_events_so_a_stream_does_not_read_them_again() {
    let mut p = generic(5).after(2);
    let got = rows(3, 6);
    p.handle_rows(got.clone());
    // Only event 4 is permitted; the log ends at 6.
    p.handle_decisions(&answer(&got, |seq| seq == 4));
    assert_eq!(p.poll(), Step::Done);
    let page = p.finish();
    assert_eq!((page.count, page.last_id.as_deref()), (1, Some("e4")));
    assert_eq!(page.position, 6);
    // Nothing read: the position is where the page started.
    let mut p = generic(5).after(6);
    p.handle_rows(Vec::new());
    assert_eq!(p.finish().position, 6);
}
