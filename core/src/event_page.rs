//! Filling one page of a read (`GET /events`, `GET /app/...`) across per-event authorization,
//! sans-IO: the object that holds the events reads candidate rows when [`EventPage::poll`] asks
//! ([`Step::Read`]), asks the PDP when it asks ([`Step::Authorize`]) and feeds both back; the page
//! keeps the permitted events in order and stops at its size.
//!
//! Altinn filters a page after its SQL `LIMIT`, so pages can be short or empty while more events
//! exist, and paging then stops. Here the page is filled by reading on, a bounded number of
//! rounds ([`MAX_ROUNDS`]) so one request cannot scan a whole log.

use alloc::collections::BTreeSet;
use alloc::string::String;
use alloc::vec::Vec;

use crate::authz::builtin::PartyKey;
use crate::authz::mapping::{
    app_event_read_resource, app_read_request, generic_event_resource, generic_read_request,
    result_event_id, EventAttrs,
};
use crate::authz::xacml::{Category, DecisionRequest, DecisionResponse};
use crate::identity::Claims;
use crate::push_filter::{person_lookup, subject_override, SubjectReplacements};
use crate::urn::ResourceUrn;
use crate::ApiError;

/// Most `type`/`source` patterns in one query (each is a bound parameter).
pub const MAX_PATTERNS: usize = 40;
/// Rounds of reading to fill a page whose events were partly denied.
pub const MAX_ROUNDS: usize = 10;
/// The largest page.
pub const MAX_SIZE: u32 = 10_000;

/// A candidate event, as read from the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageRow {
    pub seq: i64,
    pub id: String,
    pub source: String,
    pub subject: Option<String>,
    pub type_: String,
    pub resource_instance: Option<String>,
    /// The event's read form.
    pub json: String,
}

/// What the page needs next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Read up to `limit` events after sequence number `after` that pass the filters; report
    /// with [`EventPage::handle_rows`].
    Read { after: i64, limit: u32 },
    /// Ask the PDP [`EventPage::request`] (after the look-ups of [`EventPage::lookups`]);
    /// report with [`EventPage::handle_decisions`].
    Authorize,
    /// The page is complete: [`EventPage::finish`].
    Done,
}

/// A finished page.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Page {
    /// A JSON array of the events.
    pub body: String,
    pub count: usize,
    pub last_id: Option<String>,
    /// The subject of the first event (`None` also when it has none).
    pub first_subject: Option<String>,
    /// The sequence number of the last event read, permitted or not (a live stream's next
    /// page starts there, so denied events are not read again).
    pub position: i64,
}

/// One page being filled. See the module documentation.
#[derive(Clone, Debug)]
pub struct EventPage {
    claims: Claims,
    /// Generic reads authorize against the log's resource; `None` for party reads.
    resource: Option<ResourceUrn>,
    app_read: bool,
    size: usize,
    rounds: usize,
    position: i64,
    /// Rows read in the current round, waiting for decisions.
    pending: Vec<PageRow>,
    /// The current round read fewer rows than it asked for: the log ends there.
    short: bool,
    done: bool,
    page: Page,
}

impl EventPage {
    /// A page of at most `size` events (clamped to 1..=[`MAX_SIZE`]), for a caller with `claims`; `app_read`: authorize as an app-event read
    /// (action `read`, spec §11.3) instead of a generic one (`subscribe`, spec §7.2).
    /// `patterns`: the number of `type` and `source` patterns, at most [`MAX_PATTERNS`] each.
    pub fn new(
        claims: Claims,
        resource: Option<ResourceUrn>,
        app_read: bool,
        size: u32,
        patterns: (usize, usize),
    ) -> Result<EventPage, ApiError> {
        if patterns.0 > MAX_PATTERNS || patterns.1 > MAX_PATTERNS {
            return Err(ApiError::bad_request(alloc::format!(
                "At most {MAX_PATTERNS} 'type' and {MAX_PATTERNS} 'source' values can be given."
            )));
        }
        let size = size.clamp(1, MAX_SIZE) as usize;
        let mut body = String::with_capacity(2 + size.min(1000) * 300);
        body.push('[');
        Ok(EventPage {
            claims,
            resource,
            app_read,
            size,
            rounds: 0,
            position: 0,
            pending: Vec::new(),
            short: false,
            done: false,
            page: Page {
                body,
                ..Page::default()
            },
        })
    }

    /// The page starts after sequence number `seq` (the cursor's event; 0: the start).
    pub fn after(mut self, seq: i64) -> EventPage {
        self.position = seq;
        self
    }

    /// The page starts after the event an `after` cursor names: `Some(seq)`, the cursor's
    /// event as stored; `None`, no event with that id is stored (it never was, or retention
    /// deleted it). The two cannot be told apart, and both start at the oldest kept event:
    /// retention deletes the oldest events first, so every kept event comes after a deleted one
    /// and a reader whose cursor was deleted misses nothing that is still kept.
    pub fn after_cursor(self, cursor: Option<i64>) -> EventPage {
        self.after(cursor.unwrap_or(0))
    }

    /// The caller whose claims decide.
    pub fn claims(&self) -> &Claims {
        &self.claims
    }

    /// What the page needs next.
    pub fn poll(&self) -> Step {
        if !self.pending.is_empty() {
            Step::Authorize
        } else if self.done || self.rounds >= MAX_ROUNDS || self.page.count >= self.size {
            Step::Done
        } else {
            Step::Read {
                after: self.position,
                limit: self.want() as u32,
            }
        }
    }

    fn want(&self) -> usize {
        self.size - self.page.count
    }

    /// The rows of a [`Step::Read`], in sequence order.
    pub fn handle_rows(&mut self, rows: Vec<PageRow>) {
        let Some(last) = rows.last() else {
            self.done = true;
            return;
        };
        self.position = last.seq;
        self.rounds += 1;
        self.short = rows.len() < self.want();
        self.pending = rows;
        if self.app_read && !self.pending.iter().any(|r| self.app_resource(r).is_some()) {
            // None of them can be read as app events: nothing to ask.
            self.handle_decisions(&DecisionResponse::default());
        }
    }

    fn attrs<'a>(&'a self, r: &'a PageRow) -> EventAttrs<'a> {
        EventAttrs {
            id: &r.id,
            type_: &r.type_,
            source: &r.source,
            subject: r.subject.as_deref(),
            resource: self
                .resource
                .as_ref()
                .map(ResourceUrn::as_str)
                .filter(|r| !r.is_empty()),
            resource_instance: r.resource_instance.as_deref(),
        }
    }

    fn app_resource(&self, r: &PageRow) -> Option<Category> {
        app_event_read_resource(&self.attrs(r))
    }

    /// The register look-ups the request needs first: the person-number subjects of a generic
    /// read (spec §11.10), distinct.
    pub fn lookups(&self) -> Vec<(String, PartyKey)> {
        if self.app_read {
            return Vec::new();
        }
        let subjects: BTreeSet<&str> = self
            .pending
            .iter()
            .filter_map(|r| r.subject.as_deref())
            .collect();
        subjects
            .into_iter()
            .filter_map(|s| person_lookup(s).map(|k| (String::from(s), k)))
            .collect()
    }

    /// The decision request for the rows of this round.
    pub fn request(&self, replacements: &SubjectReplacements) -> DecisionRequest {
        if self.app_read {
            let resources = self
                .pending
                .iter()
                .filter_map(|r| self.app_resource(r))
                .collect();
            app_read_request(&self.claims, resources)
        } else {
            let resources = self
                .pending
                .iter()
                .map(|r| {
                    generic_event_resource(
                        &self.attrs(r),
                        subject_override(r.subject.as_deref(), replacements),
                    )
                })
                .collect();
            generic_read_request(&self.claims, resources)
        }
    }

    /// The PDP's answer for the rows of this round: the permitted ones join the page.
    pub fn handle_decisions(&mut self, response: &DecisionResponse) {
        let level = self.claims.auth_level();
        let is_org = self.claims.org().is_some();
        let permitted: BTreeSet<&str> = response
            .results
            .iter()
            .filter(|r| r.is_valid_for(level, is_org))
            .filter_map(result_event_id)
            .collect();
        let page = &mut self.page;
        for row in core::mem::take(&mut self.pending) {
            if !permitted.contains(row.id.as_str()) {
                continue;
            }
            if page.count > 0 {
                page.body.push_str(", ");
            } else {
                page.first_subject = row.subject;
            }
            page.body.push_str(&row.json);
            page.last_id = Some(row.id);
            page.count += 1;
        }
        if self.short {
            self.done = true;
        }
    }

    /// The page.
    pub fn finish(mut self) -> Page {
        self.page.body.push(']');
        self.page.position = self.position;
        self.page
    }
}

#[cfg(test)]
mod tests;
