import { useState } from "react";
import { Button, Card, Heading, Paragraph, Textfield } from "@digdir/designsystemet-react";
import { describeToken, setToken } from "../session";

export function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const [token, setValue] = useState("");
  const [error, setError] = useState<string | null>(null);

  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    const value = token.trim().replace(/^Bearer\s+/i, "");
    if (!value) {
      setError("Paste an Altinn token.");
      return;
    }
    if (!describeToken(value)) {
      setError("This is not a JWT (three base64url parts separated by dots).");
      return;
    }
    setToken(value);
    onSignedIn();
  };

  return (
    <section aria-labelledby="signin-heading" className="narrow">
      <Heading level={2} data-size="md" id="signin-heading">
        Sign in
      </Heading>
      <Paragraph>
        The console calls this service's Events API with your own Altinn token. The token stays in this
        tab's session storage and is sent only to this site.
      </Paragraph>
      <form onSubmit={submit} noValidate>
        <Textfield
          label="Altinn token"
          description="An Altinn token (a JWT), as the token exchange or the altinn-events CLI gives it."
          multiline
          rows={5}
          value={token}
          onChange={(e) => {
            setValue(e.target.value);
            setError(null);
          }}
          error={error ?? undefined}
          autoComplete="off"
          spellCheck={false}
          name="token"
        />
        <div className="actions">
          <Button type="submit">Sign in</Button>
        </div>
      </form>
      <Card data-color="neutral" variant="tinted" className="hint">
        <Heading level={3} data-size="2xs">
          Where to get a token
        </Heading>
        <Paragraph data-size="sm">
          With the CLI, after <code>altinn-events login …</code>: <code>altinn-events token show --console</code>{" "}
          prints this page's address with the cached token in its fragment; open it to sign in.
        </Paragraph>
        <Paragraph data-size="sm">
          Local development (<code>scripts/dev</code>): a dev identity, e.g.{" "}
          <code>altinn-events login dev org ttd --scope "altinn:events.publish altinn:events.subscribe"</code>{" "}
          then the command above, or paste the output of{" "}
          <code>scripts/token org ttd --scope "altinn:events.publish altinn:events.subscribe"</code>.
        </Paragraph>
      </Card>
    </section>
  );
}
