// Hash routes (#/subscriptions, #/subscriptions/{id}, #/events, #/signin): the server sees only
// /events/console/, so every view is a deep link that works with the worker's static assets.
import { useEffect, useState } from "react";
import { Button, Heading, Link, Paragraph, SkipLink } from "@digdir/designsystemet-react";
import { clearToken, describeToken, getToken } from "./session";
import { SignIn } from "./views/SignIn";
import { Subscriptions } from "./views/Subscriptions";
import { SubscriptionDetail } from "./views/SubscriptionDetail";
import { Events } from "./views/Events";

function currentRoute(): string {
  return window.location.hash.replace(/^#/, "") || "/subscriptions";
}

export function navigate(route: string) {
  window.location.hash = route;
}

export function App() {
  const [route, setRoute] = useState(currentRoute);
  const [token, setTokenState] = useState(getToken);

  useEffect(() => {
    const onHash = () => {
      setRoute(currentRoute());
      setTokenState(getToken());
    };
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  }, []);

  const identity = token ? describeToken(token) : null;
  const signedIn = Boolean(token);
  const detail = /^\/subscriptions\/(\d+)$/.exec(route);
  let view: React.ReactNode;
  let title: string;
  if (!signedIn || route === "/signin") {
    title = "Sign in";
    view = (
      <SignIn
        onSignedIn={() => {
          setTokenState(getToken());
          navigate("/subscriptions");
        }}
      />
    );
  } else if (detail) {
    title = `Subscription ${detail[1]}`;
    view = <SubscriptionDetail id={Number(detail[1])} />;
  } else if (route === "/events") {
    title = "Events";
    view = <Events />;
  } else {
    title = "Subscriptions";
    view = <Subscriptions />;
  }

  useEffect(() => {
    document.title = `${title} · Altinn Events console`;
  }, [title]);

  const tab = (to: string, label: string) => {
    const current = route === to || (to === "/subscriptions" && Boolean(detail));
    return (
      <li>
        <Link href={`#${to}`} aria-current={current ? "page" : undefined}>
          {label}
        </Link>
      </li>
    );
  };

  return (
    <>
      <SkipLink href="#main">Skip to content</SkipLink>
      <header className="top">
        <div className="brand">
          <Heading level={1} data-size="xs">
            Altinn Events console
          </Heading>
        </div>
        {signedIn ? (
          <nav aria-label="Views">
            <ul className="nav">
              {tab("/subscriptions", "Subscriptions")}
              {tab("/events", "Events")}
            </ul>
          </nav>
        ) : null}
        {signedIn ? (
          <div className="who">
            <Paragraph data-size="sm" data-testid="identity">
              Signed in as {identity?.who ?? "a token this console cannot read"}
              {identity?.expires ? `, until ${identity.expires.toISOString().slice(11, 16)} UTC` : ""}
            </Paragraph>
            <Button
              variant="tertiary"
              data-size="sm"
              onClick={() => {
                clearToken();
                setTokenState(null);
                navigate("/signin");
              }}
            >
              Sign out
            </Button>
          </div>
        ) : null}
      </header>
      <main id="main" tabIndex={-1}>
        {view}
      </main>
    </>
  );
}
