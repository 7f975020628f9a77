//! `events tail` over the live stream (issue 15): the read with `Accept: text/event-stream`,
//! parsed as Server-Sent Events; a stream that ends is resumed with `Last-Event-ID`. A server that
//! answers with a plain page instead has no stream, and the caller polls.

use std::io::BufRead;

use serde_json::Value;

use crate::api::Api;
use crate::error::{http_error, Error, Result};

/// How a stream ended.
pub enum Ended {
    /// The server closed it (token expiry, a restart): resume after this id.
    Closed(Option<String>),
    /// The server answered a page, not a stream: poll instead.
    NoStream,
}

/// One SSE message being assembled.
#[derive(Default)]
struct Message {
    id: Option<String>,
    data: Option<String>,
}

impl Api {
    /// Read `url` as a stream, resuming after `last_id`; each event goes to `on_event`.
    pub fn stream(
        &self,
        url: &str,
        last_id: Option<&str>,
        on_event: &mut impl FnMut(&[Value]) -> Result<()>,
    ) -> Result<Ended> {
        let auth = format!("Bearer {}", self.token()?);
        let mut request = self
            .http
            .get(url)
            .config()
            .timeout_global(None)
            .timeout_recv_body(None)
            .build()
            .header("authorization", &auth)
            .header("accept", "text/event-stream");
        if let Some(id) = last_id {
            request = request.header("last-event-id", id);
        }
        let response = request.call().map_err(|err| http_error(url, &err))?;
        let status = response.status().as_u16();
        let is_stream = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        if !(200..300).contains(&status) {
            let reply = crate::api::Reply::read(url, Ok(response))?;
            return Err(Error::Api {
                method: "GET",
                url: url.to_owned(),
                status,
                body: reply.body,
            });
        }
        if !is_stream {
            return Ok(Ended::NoStream);
        }
        let mut last = last_id.map(str::to_owned);
        let mut reader = std::io::BufReader::new(response.into_body().into_reader());
        let mut message = Message::default();
        let mut line = String::new();
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return Ok(Ended::Closed(last)),
                Ok(_) => {}
            }
            let text = line.trim_end_matches(['\n', '\r']);
            if text.is_empty() {
                if let Some(data) = message.data.take() {
                    let event: Value = serde_json::from_str(&data).map_err(|err| {
                        Error::Protocol(format!("a streamed event is not JSON ({err}): {data}"))
                    })?;
                    if let Some(id) = message.id.take() {
                        last = Some(id);
                    }
                    on_event(std::slice::from_ref(&event))?;
                }
                message = Message::default();
                continue;
            }
            if text.starts_with(':') {
                continue;
            }
            let (field, value) = match text.split_once(':') {
                Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
                None => (text, ""),
            };
            match field {
                "id" => message.id = Some(value.to_owned()),
                "data" => match &mut message.data {
                    Some(d) => {
                        d.push('\n');
                        d.push_str(value);
                    }
                    None => message.data = Some(value.to_owned()),
                },
                _ => {}
            }
        }
    }
}
