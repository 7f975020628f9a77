//! Token parsing before any signature check (header, claims, signing input), key sets, and the
//! lifetime check on whatever claims came out.
#![no_main]

use events_core::token::{self, IssuerKeys, Jwks};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    if let Ok(t) = token::parse(text) {
        let _ = token::check_lifetime(&t.claims, 1_764_000_000);
        let _ = t.claims.issuer();
    }
    if let Ok(keys) = Jwks::parse(text) {
        let _ = keys.candidates(token::Alg::Rs256, None);
    }
    let _ = IssuerKeys::parse(text);
});
