//! The baselines of `bench/worker`, built exactly like the service (workers-rs, the pinned
//! wasm-bindgen, `worker-build --release`, no wasm-opt):
//!
//! - `GET` anything: `Hello, world!` — the hello-world rate every ratio is taken against.
//! - `POST /floor`: the floor of any design that stores each event in a Durable Object: the
//!   body goes to the object named by the event's `resource` (found by a substring search, no
//!   JSON parsing), which inserts it into SQLite and answers 200. No authentication, no
//!   validation: what is left is the cost of one object call and one durable write.

use worker::{
    durable_object, event, Context, Env, Method, Request, RequestInit, Response, Result, State,
};

#[event(fetch)]
async fn fetch(mut req: Request, env: Env, _ctx: Context) -> Result<Response> {
    if req.method() != Method::Post {
        return Response::ok("Hello, world!");
    }
    let body = req.text().await?;
    let resource = resource_of(&body).unwrap_or("none").to_owned();
    let stub = env.durable_object("FLOOR")?.get_by_name(&resource)?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_body(Some(body.into()));
    let reply = stub
        .fetch_with_request(Request::new_with_init("https://floor/insert", &init)?)
        .await?;
    Response::empty().map(|r| r.with_status(reply.status_code()))
}

/// The value of the first `"resource":"…"` in a JSON text.
fn resource_of(body: &str) -> Option<&str> {
    let start = body.find("\"resource\":\"")? + "\"resource\":\"".len();
    let len = body[start..].find('"')?;
    Some(&body[start..start + len])
}

/// One object per resource; each request inserts its body as a row.
#[durable_object]
pub struct Floor {
    state: State,
}

impl worker::DurableObject for Floor {
    fn new(state: State, _env: Env) -> Self {
        let _ = state.storage().sql().exec(
            "CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL)",
            None,
        );
        Floor { state }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let body = req.text().await?;
        self.state
            .storage()
            .sql()
            .exec("INSERT INTO events (body) VALUES (?)", vec![body.into()])?;
        Response::empty()
    }
}
