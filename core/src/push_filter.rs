//! Who may be sent an event (spec §11.6), and the register look-ups fan-out needs before it can
//! match and ask: the main unit of a sub-unit's event (spec §9 step 2) and the party uuid that
//! replaces a person-number subject (spec §11.10). Sans-IO: each step names the party to look up
//! and the caller (an object) feeds the register's answer back.

use alloc::borrow::ToOwned;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::authz::builtin::{Party, PartyKey};
use crate::authz::mapping::{permitted_consumers, push_request, EventView};
use crate::authz::xacml::{DecisionRequest, DecisionResponse};
use crate::matching::{main_unit_lookup, main_unit_subject, MainUnitFormat};

/// Subjects the PDP does not understand: a person's national identity number.
pub const PERSON_SUBJECT_PREFIX: &str = "urn:altinn:person:identifier-no:";

/// Replacements of person-number subjects by the person's party uuid (`None`: the register does
/// not know the person), by subject.
pub type SubjectReplacements = BTreeMap<String, Option<String>>;

/// The register key to look up for a subject that must be replaced before asking the PDP.
pub fn person_lookup(subject: &str) -> Option<PartyKey> {
    subject
        .strip_prefix(PERSON_SUBJECT_PREFIX)
        .map(|ssn| PartyKey::PersonId(ssn.to_owned()))
}

/// What a person-number subject becomes, given the register's entry for the person.
pub fn person_replacement(party: Option<&Party>) -> Option<String> {
    party
        .and_then(|p| p.party_uuid.as_deref())
        .map(|u| format!("urn:altinn:party:uuid:{u}"))
}

/// The subject the PDP is asked about in place of `subject` (`None`: the subject as it is).
pub fn subject_override<'a>(
    subject: Option<&str>,
    replacements: &'a SubjectReplacements,
) -> Option<Option<&'a str>> {
    subject
        .and_then(|s| replacements.get(s))
        .map(|r| r.as_deref())
}

/// Finding the main unit of an event's organisation, for subscriptions that include sub-units
/// (spec §9 step 2): the unit, then its main unit, from the party register.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MainUnitSearch {
    format: MainUnitFormat,
    step: Step,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Step {
    Unit(PartyKey),
    Main(i64),
}

impl MainUnitSearch {
    /// A search for the event's main unit, when it qualifies and some subscription wants
    /// sub-units (`None`: there is nothing to look up).
    pub fn start(
        subject: Option<&str>,
        alternative_subject: Option<&str>,
        wants_subunits: bool,
    ) -> Option<MainUnitSearch> {
        if !wants_subunits {
            return None;
        }
        let (lookup, format) = main_unit_lookup(subject, alternative_subject)?;
        let key = if let Some(n) = lookup.strip_prefix("urn:altinn:organization:identifier-no:") {
            PartyKey::OrgNumber(n.to_owned())
        } else {
            PartyKey::Id(lookup.strip_prefix("urn:altinn:party:id:")?.parse().ok()?)
        };
        Some(MainUnitSearch {
            format,
            step: Step::Unit(key),
        })
    }

    /// The party to look up next.
    pub fn lookup(&self) -> PartyKey {
        match &self.step {
            Step::Unit(key) => key.clone(),
            Step::Main(id) => PartyKey::Id(*id),
        }
    }

    /// The register's answer for [`MainUnitSearch::lookup`]: `Ok` with the main unit's subject
    /// (`None`: there is none), or `Err` with the next step.
    pub fn handle_party(self, party: Option<Party>) -> Result<Option<String>, MainUnitSearch> {
        let Some(party) = party else { return Ok(None) };
        match self.step {
            Step::Unit(_) => match party.main_unit_party_id {
                Some(main) => Err(MainUnitSearch {
                    format: self.format,
                    step: Step::Main(main),
                }),
                None => Ok(None),
            },
            Step::Main(id) => Ok(party
                .organization_identifier
                .as_deref()
                .map(|org| main_unit_subject(self.format, org, id))),
        }
    }
}

/// The consumers one event is about to be pushed to, and the question for the PDP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushFilter {
    /// Distinct, sorted.
    consumers: Vec<String>,
}

impl PushFilter {
    pub fn new<'a>(consumers: impl IntoIterator<Item = &'a str>) -> PushFilter {
        let set: BTreeSet<&str> = consumers.into_iter().collect();
        PushFilter {
            consumers: set.into_iter().map(str::to_owned).collect(),
        }
    }

    pub fn consumers(&self) -> &[String] {
        &self.consumers
    }

    /// Whether there is anyone to ask about.
    pub fn is_empty(&self) -> bool {
        self.consumers.is_empty()
    }

    /// The register look-ups (subject, key) the event needs before the PDP can be asked.
    pub fn lookups<E: EventView + ?Sized>(event: &E) -> Vec<(String, PartyKey)> {
        event
            .subject()
            .and_then(|s| person_lookup(s).map(|key| (s.to_owned(), key)))
            .into_iter()
            .collect()
    }

    /// The decision request: one subject per consumer, the event as the resource.
    pub fn request<E: EventView + ?Sized>(
        &self,
        event: &E,
        replacements: &SubjectReplacements,
    ) -> DecisionRequest {
        let consumers: Vec<&str> = self.consumers.iter().map(String::as_str).collect();
        push_request(
            &consumers,
            event,
            subject_override(event.subject(), replacements),
        )
    }

    /// The consumers the PDP's answer permits (obligations are not evaluated for pushes).
    pub fn permitted(&self, response: &DecisionResponse) -> Permitted {
        Permitted::from_response(response)
    }
}

/// The consumers permitted to be sent one event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Permitted(BTreeSet<String>);

impl Permitted {
    /// The consumers a push-authorization response permits.
    pub fn from_response(response: &DecisionResponse) -> Permitted {
        Permitted(permitted_consumers(response).into_iter().collect())
    }

    pub fn allows(&self, consumer: &str) -> bool {
        self.0.contains(consumer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authz::xacml::{Decision, DecisionResult};
    use alloc::string::ToString;
    use alloc::vec;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn party(id: i64, main: Option<i64>, org: Option<&str>) -> Party {
        Party {
            party_id: id,
            main_unit_party_id: main,
            organization_identifier: org.map(str::to_owned),
            ..Party::default()
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn a_main_unit_is_looked_up_only_when_a_subscription_wants_sub_units() {
        let org = Some("urn:altinn:organization:identifier-no:910000001");
        assert_eq!(MainUnitSearch::start(org, None, false), None);
        let search = MainUnitSearch::start(org, None, true).unwrap();
        assert_eq!(search.lookup(), PartyKey::OrgNumber("910000001".into()));
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn an_organisation_urn_subject_finds_the_main_units_urn() {
        let org = Some("urn:altinn:organization:identifier-no:910000001");
        let search = MainUnitSearch::start(org, None, true).unwrap();
        let search = search
            .handle_party(Some(party(5, Some(4), None)))
            .unwrap_err();
        assert_eq!(search.lookup(), PartyKey::Id(4));
        assert_eq!(
            search.handle_party(Some(party(4, None, Some("910000000")))),
            Ok(Some(
                "urn:altinn:organization:identifier-no:910000000".into()
            ))
        );
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn a_party_subject_with_an_organisation_alternative_finds_the_main_units_party() {
        let search = MainUnitSearch::start(Some("/party/5"), Some("/org/910000001"), true).unwrap();
        assert_eq!(search.lookup(), PartyKey::Id(5));
        let search = search
            .handle_party(Some(party(5, Some(4), None)))
            .unwrap_err();
        assert_eq!(
            search.handle_party(Some(party(4, None, Some("910000000")))),
            Ok(Some("/party/4".into()))
        );
        // Without an organisation alternative subject there is nothing to find.
        assert_eq!(MainUnitSearch::start(Some("/party/5"), None, true), None);
        // Other URNs and unparsable ids neither.
        assert_eq!(
            MainUnitSearch::start(Some("urn:altinn:person:identifier-no:1"), None, true),
            None
        );
        assert_eq!(
            MainUnitSearch::start(Some("/party/x"), Some("/org/1"), true),
            None
        );
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn a_unit_without_a_main_unit_or_an_unknown_party_ends_the_search() {
        let org = Some("urn:altinn:organization:identifier-no:910000001");
        let search = MainUnitSearch::start(org, None, true).unwrap();
        assert_eq!(search.clone().handle_party(None), Ok(None));
        assert_eq!(search.handle_party(Some(party(5, None, None))), Ok(None));
        let main = MainUnitSearch::start(org, None, true)
            .unwrap()
            .handle_party(Some(party(5, Some(4), None)))
            .unwrap_err();
        assert_eq!(main.handle_party(Some(party(4, None, None))), Ok(None));
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn person_subjects_are_replaced_by_the_party_uuid() {
        assert_eq!(
            person_lookup("urn:altinn:person:identifier-no:01017012345"),
            Some(PartyKey::PersonId("01017012345".into()))
        );
        assert_eq!(person_lookup("/party/1"), None);
        let mut event = crate::event::EventMeta {
            id: "e1".into(),
            source: "https://x.example/s".into(),
            subject: Some("urn:altinn:person:identifier-no:1".into()),
            alternative_subject: None,
            type_: "t".into(),
            resource: "urn:altinn:resource:r".into(),
            resource_instance: None,
            time_ticks: None,
        };
        assert_eq!(
            PushFilter::lookups(&event),
            vec![(
                "urn:altinn:person:identifier-no:1".to_string(),
                PartyKey::PersonId("1".into())
            )]
        );
        event.subject = Some("/party/1".into());
        assert_eq!(PushFilter::lookups(&event), vec![]);
        let mut p = party(1, None, None);
        p.party_uuid = Some("u-1".into());
        assert_eq!(
            person_replacement(Some(&p)),
            Some("urn:altinn:party:uuid:u-1".into())
        );
        assert_eq!(person_replacement(None), None);
        let mut repl = SubjectReplacements::new();
        repl.insert("s".into(), None);
        assert_eq!(subject_override(Some("s"), &repl), Some(None));
        assert_eq!(subject_override(Some("t"), &repl), None);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn the_filter_asks_once_per_distinct_consumer_and_keeps_the_permitted() {
        let filter = PushFilter::new(["/org/b", "/org/a", "/org/b"]);
        assert_eq!(filter.consumers(), ["/org/a".to_string(), "/org/b".into()]);
        let event = crate::event::EventMeta {
            id: "e1".into(),
            source: "https://x.example/s".into(),
            subject: None,
            alternative_subject: None,
            type_: "t".into(),
            resource: "urn:altinn:resource:r".into(),
            resource_instance: None,
            time_ticks: None,
        };
        let request = filter.request(&event, &SubjectReplacements::new());
        assert_eq!(request.subjects.len(), 2);
        let result = |decision, org: &str| DecisionResult {
            decision,
            categories: vec![(
                crate::authz::xacml::CATEGORY_SUBJECT.to_string(),
                vec![crate::authz::xacml::Attribute::new(
                    crate::authz::mapping::ATTR_ORG,
                    org,
                    "string",
                )],
            )],
            obligations: vec![],
        };
        let response = DecisionResponse {
            results: vec![result(Decision::Permit, "b"), result(Decision::Deny, "a")],
        };
        let permitted = filter.permitted(&response);
        assert!(permitted.allows("/org/b"));
        assert!(!permitted.allows("/org/a"));
        assert!(PushFilter::new([]).is_empty());
    }
}
