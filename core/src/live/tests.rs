use super::*;
use alloc::vec;
use alloc::vec::Vec;
use serde_json::json;
use wasm_bindgen_test::wasm_bindgen_test;

fn claims(exp: Option<i64>) -> Claims {
    let mut map = serde_json::Map::new();
    if let Some(exp) = exp {
        map.insert("exp".into(), json!(exp));
    }
    Claims::new(map)
}

#[wasm_bindgen_test(unsupported = test)]
fn only_an_event_stream_accept_asks_for_a_stream() {
    assert!(wants_stream(Some("text/event-stream")));
    assert!(wants_stream(Some("Text/Event-Stream; charset=utf-8")));
    assert!(wants_stream(Some(
        "application/json, text/event-stream;q=0.5"
    )));
    assert!(!wants_stream(Some("text/event-stream;q=0")));
    assert!(!wants_stream(Some("text/event-stream; q = 0.0")));
    assert!(!wants_stream(Some("*/*")));
    assert!(!wants_stream(Some("application/json")));
    assert!(!wants_stream(Some("text/event-streams")));
    assert!(!wants_stream(None));
}

fn pairs(qs: &QueryString) -> Vec<(&str, &str)> {
    qs.pairs()
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

#[wasm_bindgen_test(unsupported = test)]
fn last_event_id_takes_the_place_of_after() {
    let qs = QueryString::parse("resource=r&After=1&after=2&type=t");
    assert_eq!(
        pairs(&cursor_query(&qs, Some("e-9"))),
        vec![("after", "e-9"), ("resource", "r"), ("type", "t")]
    );
    // Without one (or an empty one), the URL's cursor stands, and no cursor stays no cursor.
    assert_eq!(cursor_query(&qs, None), qs);
    assert_eq!(cursor_query(&qs, Some("")), qs);
    let none = QueryString::parse("resource=r");
    assert_eq!(cursor_query(&none, None).first("after"), None);
    assert_eq!(cursor_query(&none, Some("x")).first("after"), Some("x"));
}

#[wasm_bindgen_test(unsupported = test)]
fn a_message_is_an_id_and_data_lines() {
    assert_eq!(
        message("e1", r#"{"id":"e1"}"#),
        "id: e1\ndata: {\"id\":\"e1\"}\n\n"
    );
    // Line breaks (whitespace in JSON) continue on further data lines; CR and CRLF too.
    assert_eq!(
        message("e2", "{\n\"id\":\r\n\"e2\"\r}"),
        "id: e2\ndata: {\ndata: \"id\":\ndata: \"e2\"\ndata: }\n\n"
    );
    // An id SSE cannot carry is left out.
    assert_eq!(message("a\nb", "{}"), "data: {}\n\n");
    assert_eq!(message("a\0b", "{}"), "data: {}\n\n");
}

#[wasm_bindgen_test(unsupported = test)]
fn a_page_becomes_one_message_per_event_in_order() {
    let body = r#"[{"id":"a","type":"t"}, {"type":"u","id":"b","data":{"id":"x"}}]"#;
    assert_eq!(
        page_messages(body).unwrap(),
        "id: a\ndata: {\"id\":\"a\",\"type\":\"t\"}\n\n\
         id: b\ndata: {\"type\":\"u\",\"id\":\"b\",\"data\":{\"id\":\"x\"}}\n\n"
    );
    assert_eq!(page_messages("[]").unwrap(), "");
    assert_eq!(page_messages("{}"), Err(MalformedPage));
    assert_eq!(page_messages(r#"[{"type":"t"}]"#), Err(MalformedPage));
    assert_eq!(page_messages("[1]"), Err(MalformedPage));
}

#[wasm_bindgen_test(unsupported = test)]
fn heartbeats_come_after_quiet_time() {
    let mut s = Schedule::new(&claims(None), 1_000);
    assert_eq!(s.poll(1_000), Tick::Wait(HEARTBEAT_MS));
    assert_eq!(s.poll(1_000 + HEARTBEAT_MS - 1), Tick::Wait(1));
    assert_eq!(s.poll(1_000 + HEARTBEAT_MS), Tick::Heartbeat);
    // Output (an event or the heartbeat) starts the quiet time again.
    s.handle_output(5_000);
    assert_eq!(s.poll(1_000 + HEARTBEAT_MS), Tick::Wait(4_000));
}

#[wasm_bindgen_test(unsupported = test)]
fn the_stream_ends_when_the_token_is_refused() {
    // exp = 100 s: valid through second 100, refused from 101 000 ms.
    let s = Schedule::new(&claims(Some(100)), 95_000);
    assert_eq!(s.poll(95_000), Tick::Wait(6_000));
    assert_eq!(s.poll(100_999), Tick::Wait(1));
    assert_eq!(s.poll(101_000), Tick::End);
    // The end wins over a due heartbeat.
    let s = Schedule::new(&claims(Some(100)), 0);
    assert_eq!(s.poll(HEARTBEAT_MS), Tick::Heartbeat);
    assert_eq!(s.poll(200_000), Tick::End);
}

#[wasm_bindgen_test(unsupported = test)]
fn a_stream_reads_on_while_pages_move_and_waits_when_they_do_not() {
    let mut f = Follow::new();
    // The first page starts at the read's cursor.
    assert_eq!((f.position(), f.wants_read()), (None, true));
    f.handle_page(40);
    assert_eq!((f.position(), f.wants_read()), (Some(40), true));
    // Nothing after 40: wait for a note.
    f.handle_page(40);
    assert_eq!((f.position(), f.wants_read()), (Some(40), false));
    f.handle_note();
    assert!(f.wants_read());
    // Denied events move the position too, so they are not read again.
    f.handle_page(43);
    assert_eq!((f.position(), f.wants_read()), (Some(43), true));
    f.handle_page(43);
    assert!(!f.wants_read());
    // A first page of an empty log (position 0) reads once more, then waits.
    let mut f = Follow::new();
    f.handle_page(0);
    assert!(f.wants_read());
    f.handle_page(0);
    assert!(!f.wants_read());
}
