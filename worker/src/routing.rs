//! The route table: which paths exist and which methods each serves. Paths are matched as
//! ASP.NET's routing matches them: literal segments case-insensitively, empty segments (a
//! trailing slash, `//`) ignored. A path that is no route is a 404; a route asked with a method
//! it does not serve is a 405 with an `Allow` header. Pure (no platform types), so it is unit
//! tested and fuzzed natively.

use events_core::ApiError;

/// The routes of the service. Path parameters are the raw (still percent-encoded) segments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route<'a> {
    Health,
    Events,
    App,
    AppParty,
    AppForOrg(&'a str, &'a str),
    Subscriptions,
    Subscription(&'a str),
    ValidateSubscription(&'a str),
    DeadLetters(&'a str),
    Redeliver(&'a str),
    /// `…/subscriptions/{id}/secret`: the signing secret.
    SubscriptionSecret(&'a str),
    /// `…/subscriptions/{id}/secret/rotate`.
    RotateSecret(&'a str),
    /// `…/subscriptions/{id}/attempts`: the attempt log.
    Attempts(&'a str),
    /// `…/subscriptions/{id}/enable`: resume a disabled subscription.
    Enable(&'a str),
    /// `…/subscriptions/{id}/replay`: queue stored events again.
    Replay(&'a str),
    Inbound,
    Outbound,
    StorageEvents,
    StorageLogs,
    WebhookReceiver,
    AdminResource(&'a str),
    AdminParty(&'a str),
    AdminOrg(&'a str),
    /// `/authentication/api/v1/exchange/maskinporten`.
    ExchangeMaskinporten,
    /// `/authentication/api/v1/openid/.well-known/openid-configuration`.
    OpenIdConfiguration,
    /// `/authentication/api/v1/openid/.well-known/openid-configuration/jwks`.
    OpenIdJwks,
    /// `/events/api/v1/openapi.json`: the OpenAPI document of these routes.
    OpenApi,
    /// `/events/api/v1/docs`: the API reference page (served by static assets; the worker only
    /// sees the request when they are missing).
    Docs,
}

/// The methods a request may carry, as sent. `Other` is any method no route serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verb {
    Get,
    Head,
    Post,
    Put,
    Delete,
    Other,
}

impl Verb {
    /// HTTP methods are matched case-insensitively, as ASP.NET does.
    pub fn parse(method: &str) -> Verb {
        match method.to_ascii_uppercase().as_str() {
            "GET" => Verb::Get,
            "HEAD" => Verb::Head,
            "POST" => Verb::Post,
            "PUT" => Verb::Put,
            "DELETE" => Verb::Delete,
            _ => Verb::Other,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Head => "HEAD",
            Verb::Post => "POST",
            Verb::Put => "PUT",
            Verb::Delete => "DELETE",
            Verb::Other => "",
        }
    }
}

impl<'a> Route<'a> {
    /// The route a path names, or `None` (404). `segments` are the non-empty path segments.
    pub fn parse(segments: &[&'a str]) -> Option<Route<'a>> {
        let lower: Vec<String> = segments.iter().map(|s| s.to_ascii_lowercase()).collect();
        let lower: Vec<&str> = lower.iter().map(String::as_str).collect();
        if lower.as_slice() == ["health"] {
            return Some(Route::Health);
        }
        match lower.as_slice() {
            ["authentication", "api", "v1", "exchange", "maskinporten"] => {
                return Some(Route::ExchangeMaskinporten)
            }
            ["authentication", "api", "v1", "openid", ".well-known", "openid-configuration"] => {
                return Some(Route::OpenIdConfiguration)
            }
            ["authentication", "api", "v1", "openid", ".well-known", "openid-configuration", "jwks"] => {
                return Some(Route::OpenIdJwks)
            }
            _ => {}
        }
        let (["events", "api", "v1", api @ ..], [_, _, _, raw @ ..]) = (lower.as_slice(), segments)
        else {
            return None;
        };
        let param = |i: usize| raw.get(i).copied().unwrap_or_default();
        Some(match api {
            ["events"] => Route::Events,
            ["app"] => Route::App,
            ["app", "party"] => Route::AppParty,
            ["app", _, _] => Route::AppForOrg(param(1), param(2)),
            ["subscriptions"] => Route::Subscriptions,
            ["subscriptions", "validate", _] => Route::ValidateSubscription(param(2)),
            ["subscriptions", _] => Route::Subscription(param(1)),
            ["subscriptions", _, "deadletters"] => Route::DeadLetters(param(1)),
            ["subscriptions", _, "deadletters", "redeliver"] => Route::Redeliver(param(1)),
            ["subscriptions", _, "secret"] => Route::SubscriptionSecret(param(1)),
            ["subscriptions", _, "secret", "rotate"] => Route::RotateSecret(param(1)),
            ["subscriptions", _, "attempts"] => Route::Attempts(param(1)),
            ["subscriptions", _, "enable"] => Route::Enable(param(1)),
            ["subscriptions", _, "replay"] => Route::Replay(param(1)),
            ["inbound"] => Route::Inbound,
            ["outbound"] => Route::Outbound,
            ["storage", "events"] => Route::StorageEvents,
            ["storage", "events", "logs"] => Route::StorageLogs,
            ["tests", "webhookreceiver"] => Route::WebhookReceiver,
            ["admin", "resources", _] => Route::AdminResource(param(2)),
            ["admin", "parties", _] => Route::AdminParty(param(2)),
            ["admin", "orgs", _] => Route::AdminOrg(param(2)),
            ["openapi.json"] => Route::OpenApi,
            ["docs"] => Route::Docs,
            _ => return None,
        })
    }

    /// The methods this route serves, in the order the `Allow` header lists them.
    pub fn methods(self) -> &'static [Verb] {
        use Verb::*;
        match self {
            Route::Health => &[Get, Head],
            Route::Events => &[Get, Post],
            Route::App => &[Post],
            Route::AppParty | Route::AppForOrg(..) => &[Get],
            Route::Subscriptions => &[Get, Post],
            Route::Subscription(_) => &[Get, Delete],
            Route::ValidateSubscription(_) => &[Put],
            Route::DeadLetters(_) => &[Get],
            Route::Redeliver(_) => &[Post],
            Route::SubscriptionSecret(_) | Route::Attempts(_) => &[Get],
            Route::RotateSecret(_) | Route::Enable(_) | Route::Replay(_) => &[Post],
            Route::Inbound | Route::Outbound | Route::StorageEvents => &[Post],
            Route::StorageLogs => &[Get, Post],
            Route::WebhookReceiver => &[Post],
            Route::AdminResource(_) | Route::AdminParty(_) | Route::AdminOrg(_) => {
                &[Get, Put, Delete]
            }
            Route::ExchangeMaskinporten | Route::OpenIdConfiguration | Route::OpenIdJwks => &[Get],
            Route::OpenApi | Route::Docs => &[Get],
        }
    }

    /// Whether the route needs no Altinn or platform credentials (so it answers even where the
    /// Altinn key settings are missing). The exchange verifies Maskinporten tokens only.
    pub fn anonymous(self) -> bool {
        matches!(
            self,
            Route::Health
                | Route::WebhookReceiver
                | Route::ExchangeMaskinporten
                | Route::OpenIdConfiguration
                | Route::OpenIdJwks
                | Route::OpenApi
                | Route::Docs
        )
    }
}

/// The non-empty segments of a path.
pub fn segments(path: &str) -> Vec<&str> {
    path.split('/').filter(|s| !s.is_empty()).collect()
}

/// Route and method, or the 404/405 a request gets when there is no such pair.
pub fn resolve<'a>(segments: &[&'a str], method: &str) -> Result<(Route<'a>, Verb), ApiError> {
    let route = Route::parse(segments).ok_or_else(ApiError::not_found)?;
    let verb = Verb::parse(method);
    let allowed = route.methods();
    if verb == Verb::Other || !allowed.contains(&verb) {
        let names: Vec<&str> = allowed.iter().map(|v| v.name()).collect();
        return Err(ApiError::method_not_allowed(&names));
    }
    Ok((route, verb))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(path: &str, method: &str) -> (u16, Option<String>) {
        match resolve(&segments(path), method) {
            Ok(_) => (200, None),
            Err(e) => (e.status, e.render("t").allow),
        }
    }

    #[test]
    fn empty_segments_are_ignored() {
        let ok = |p: &str, m: &str| assert_eq!(status(p, m).0, 200, "{m} {p}");
        ok("/events/api/v1/subscriptions//12", "GET");
        ok("//events//api/v1/subscriptions/12/", "DELETE");
        ok("/events/api/v1/app//party", "GET");
        ok("/Events/API/v1/Subscriptions/", "get");
        assert_eq!(
            resolve(&segments("/events/api/v1/subscriptions//12"), "GET")
                .map(|(r, _)| r)
                .ok(),
            Some(Route::Subscription("12"))
        );
    }

    #[test]
    fn unknown_paths_are_404() {
        for p in [
            "/",
            "/events/api/v1/subscriptions/1/foo",
            "/events/api/v1/storage",
            "/events/api/v1/storage/x",
            "/events/api/v1/storage/events/logs/1",
            "/events/api/v1/app/a/b/c",
            "/events/api/v2/events",
            "/events/api/v1/admin/resources",
            "/events/api/v1/tests",
            "/events/api/v1/admin/orgs",
            "/authentication/api/v1/exchange",
            "/authentication/api/v1/exchange/maskinporten/x",
            "/authentication/api/v1/openid/.well-known",
            "/authentication/api/v1/openid/.well-known/openid-configuration/jwks/x",
        ] {
            assert_eq!(status(p, "GET"), (404, None), "{p}");
        }
    }

    #[test]
    fn wrong_and_unknown_methods_are_405_with_allow() {
        let allow = |p: &str, m: &str| status(p, m);
        for m in [
            "QUERY", "PROPFIND", "SEARCH", "COPY", "MOVE", "LOCK", "MKCOL", "PURGE", "PATCH",
        ] {
            assert_eq!(
                allow("/events/api/v1/subscriptions", m),
                (405, Some("GET, POST".into())),
                "{m}"
            );
        }
        for m in ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "HEAD"] {
            assert_eq!(
                allow("/events/api/v1/app/party", m),
                (405, Some("GET".into())),
                "{m}"
            );
        }
        assert_eq!(allow("/health", "POST"), (405, Some("GET, HEAD".into())));
        assert_eq!(
            allow("/events/api/v1/app", "GET"),
            (405, Some("POST".into()))
        );
        assert_eq!(
            allow("/events/api/v1/subscriptions/validate/3", "GET"),
            (405, Some("PUT".into()))
        );
        assert_eq!(
            allow("/events/api/v1/admin/parties/3", "POST"),
            (405, Some("GET, PUT, DELETE".into()))
        );
        assert_eq!(
            allow("/events/api/v1/admin/orgs/ttd", "POST"),
            (405, Some("GET, PUT, DELETE".into()))
        );
        for p in [
            "/authentication/api/v1/exchange/maskinporten",
            "/authentication/api/v1/openid/.well-known/openid-configuration",
            "/authentication/api/v1/openid/.well-known/openid-configuration/jwks",
        ] {
            assert_eq!(allow(p, "POST"), (405, Some("GET".into())), "{p}");
        }
    }

    #[test]
    fn exchange_routes() {
        fn route(p: &'static str) -> Option<Route<'static>> {
            resolve(&segments(p), "GET").map(|(r, _)| r).ok()
        }
        assert_eq!(
            route("/Authentication/api/v1/exchange/Maskinporten/"),
            Some(Route::ExchangeMaskinporten)
        );
        assert_eq!(
            route("/authentication/api/v1/openid/.well-known/openid-configuration"),
            Some(Route::OpenIdConfiguration)
        );
        assert_eq!(
            route("/authentication/api/v1/openid/.well-known/openid-configuration/jwks"),
            Some(Route::OpenIdJwks)
        );
        assert_eq!(
            route("/events/api/v1/admin/orgs/ttd"),
            Some(Route::AdminOrg("ttd"))
        );
        assert!(Route::OpenIdJwks.anonymous() && Route::ExchangeMaskinporten.anonymous());
        assert!(!Route::AdminOrg("ttd").anonymous());
    }

    #[test]
    fn subscriber_control_routes() {
        let cases = [
            (
                "/events/api/v1/subscriptions/7/secret",
                "GET",
                Route::SubscriptionSecret("7"),
                "GET",
            ),
            (
                "/events/api/v1/subscriptions/7/secret/rotate",
                "POST",
                Route::RotateSecret("7"),
                "POST",
            ),
            (
                "/events/api/v1/subscriptions/7/attempts",
                "GET",
                Route::Attempts("7"),
                "GET",
            ),
            (
                "/events/api/v1/subscriptions/7/enable",
                "POST",
                Route::Enable("7"),
                "POST",
            ),
            (
                "/events/api/v1/subscriptions/7/replay",
                "POST",
                Route::Replay("7"),
                "POST",
            ),
        ];
        for (path, method, route, allow) in cases {
            assert_eq!(
                resolve(&segments(path), method).ok(),
                Some((route, Verb::parse(method))),
                "{method} {path}"
            );
            assert!(!route.anonymous(), "{path}");
            for other in ["GET", "POST", "PUT", "DELETE", "HEAD"] {
                if other != method {
                    assert_eq!(
                        status(path, other),
                        (405, Some(allow.into())),
                        "{other} {path}"
                    );
                }
            }
            for extra in ["/x", "/rotate/x"] {
                assert_eq!(
                    status(&format!("{path}{extra}"), method).0,
                    404,
                    "{path}{extra}"
                );
            }
        }
        // Literal segments in any case, the raw id kept as sent.
        assert_eq!(
            resolve(
                &segments("/Events/api/V1/Subscriptions/%37/Secret/ROTATE/"),
                "post"
            )
            .ok(),
            Some((Route::RotateSecret("%37"), Verb::Post))
        );
        // `validate` is a literal there, as before: not a subscription id.
        assert_eq!(
            resolve(
                &segments("/events/api/v1/subscriptions/validate/secret"),
                "PUT"
            )
            .ok(),
            Some((Route::ValidateSubscription("secret"), Verb::Put))
        );
    }

    #[test]
    fn reference_routes() {
        fn route(p: &'static str) -> Option<Route<'static>> {
            resolve(&segments(p), "GET").map(|(r, _)| r).ok()
        }
        assert_eq!(route("/events/api/v1/openapi.json"), Some(Route::OpenApi));
        assert_eq!(route("/Events/API/v1/OpenAPI.json/"), Some(Route::OpenApi));
        assert_eq!(route("/events/api/v1/docs"), Some(Route::Docs));
        assert!(Route::OpenApi.anonymous() && Route::Docs.anonymous());
        assert_eq!(
            status("/events/api/v1/openapi.json", "POST"),
            (405, Some("GET".into()))
        );
        assert_eq!(
            status("/events/api/v1/docs", "HEAD"),
            (405, Some("GET".into()))
        );
        for p in [
            "/events/api/v1/openapi",
            "/events/api/v1/docs/x",
            "/openapi.json",
        ] {
            assert_eq!(status(p, "GET"), (404, None), "{p}");
        }
    }
}
