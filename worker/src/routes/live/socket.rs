//! The worker's end of a stream's WebSocket to the object that holds its events: opened before
//! the first page is read (so no commit after that read goes unnoticed), then a future per
//! wait that resolves on the object's next note or on the socket closing.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use worker::{Headers, Request, RequestInit, Stub, WebSocket};

use crate::error::Error;
use crate::objects::live::PATH;

/// What a wait ended with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Note {
    /// Events were stored since the last wait (one or more notes).
    New,
    /// The socket closed (the object restarted, or the platform dropped it).
    Closed,
}

#[derive(Default)]
struct Flags {
    new: bool,
    closed: bool,
    waker: Option<Waker>,
}

type Listener = Closure<dyn FnMut(JsValue)>;

/// An open subscription. Dropping it closes the socket, which the object then forgets.
pub struct Subscription {
    ws: WebSocket,
    flags: Rc<RefCell<Flags>>,
    listeners: Vec<(&'static str, Listener)>,
}

impl Subscription {
    /// Open a socket to `stub`'s object.
    pub async fn open(stub: &Stub) -> Result<Subscription, Error> {
        let fail = |e: worker::Error| Error::platform("Could not subscribe to new events", e);
        let headers = Headers::new();
        headers.set("upgrade", "websocket").map_err(fail)?;
        let mut init = RequestInit::new();
        init.with_headers(headers);
        let req = Request::new_with_init(&format!("https://do{PATH}"), &init).map_err(fail)?;
        let resp = stub.fetch_with_request(req).await.map_err(fail)?;
        let status = resp.status_code();
        let ws = resp.websocket().ok_or_else(|| {
            Error::platform(
                "Could not subscribe to new events",
                format!("the object answered {status} without a socket"),
            )
        })?;
        ws.accept().map_err(fail)?;
        // Listeners go on before anything can be dispatched (no await since `accept`).
        let flags = Rc::new(RefCell::new(Flags::default()));
        let mut listeners = Vec::with_capacity(3);
        for (kind, closes) in [("message", false), ("close", true), ("error", true)] {
            let flags = Rc::clone(&flags);
            let listener: Listener = Closure::new(move |_: JsValue| {
                let mut f = flags.borrow_mut();
                if closes {
                    f.closed = true;
                } else {
                    f.new = true;
                }
                if let Some(waker) = f.waker.take() {
                    waker.wake();
                }
            });
            ws.as_ref()
                .add_event_listener_with_callback(kind, listener.as_ref().unchecked_ref())
                .map_err(|e| fail(e.into()))?;
            listeners.push((kind, listener));
        }
        Ok(Subscription {
            ws,
            flags,
            listeners,
        })
    }

    /// The next note: at once if one came since the last wait.
    pub fn next(&self) -> NextNote {
        NextNote {
            flags: Rc::clone(&self.flags),
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        for (kind, listener) in self.listeners.drain(..) {
            let _ = self
                .ws
                .as_ref()
                .remove_event_listener_with_callback(kind, listener.as_ref().unchecked_ref());
        }
        let _ = self.ws.close(Some(1000), Some("stream ended"));
    }
}

/// The future of [`Subscription::next`].
pub struct NextNote {
    flags: Rc<RefCell<Flags>>,
}

impl Future for NextNote {
    type Output = Note;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Note> {
        let mut f = self.flags.borrow_mut();
        if f.closed {
            Poll::Ready(Note::Closed)
        } else if f.new {
            f.new = false;
            Poll::Ready(Note::New)
        } else {
            f.waker = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}
