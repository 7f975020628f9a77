//! The route table: `METHOD path` lines. Never a panic; a path is a 404, a 405 with a non-empty
//! `Allow`, or a route whose methods include the one asked.
#![no_main]

use altinn_events_worker::routing::{resolve, segments, Route};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    let (method, path) = text.split_once(' ').unwrap_or(("GET", text));
    let segs = segments(path);
    match resolve(&segs, method) {
        Ok((route, verb)) => assert!(route.methods().contains(&verb)),
        Err(e) if e.status == 404 => assert!(Route::parse(&segs).is_none()),
        Err(e) => {
            assert_eq!(e.status, 405);
            assert!(e.render("t").allow.is_some_and(|a| !a.is_empty()));
        }
    }
});
