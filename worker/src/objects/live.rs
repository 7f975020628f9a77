//! The objects' side of the live stream (issue 15): an object that holds events (`EventLog`, and
//! `Party` for its index) accepts a WebSocket from each open stream with the hibernation API and,
//! after it commits new events, sends every socket a one-byte "new events" note. The note carries
//! no events: the stream pulls them by its cursor through the ordinary query, so a note lost or
//! doubled changes nothing but timing, and authorization stays the read's.
//!
//! A hibernated object keeps its accepted sockets open while it is out of memory: an idle stream
//! costs the object nothing. When the object restarts (deploy, eviction with a fault) its sockets
//! close, the worker ends the SSE response, and the client reconnects with `Last-Event-ID`.

use worker::{Response, State, WebSocket, WebSocketPair};

use crate::error::Error;

/// The request path a stream subscribes at (`GET` with `Upgrade: websocket`).
pub const PATH: &str = "/live";
/// The note sent after a commit.
pub const NOTE: &str = "n";

/// Accept a stream's socket (hibernatable) and answer `101` with the other end.
pub fn subscribe(state: &State) -> Result<Response, Error> {
    let pair =
        WebSocketPair::new().map_err(|e| Error::platform("Could not open a live socket", e))?;
    state.accept_web_socket(&pair.server);
    Response::from_websocket(pair.client)
        .map_err(|e| Error::platform("Could not answer a live socket", e))
}

/// Tell every open stream that events were stored. A socket that cannot take the note is
/// closing; its stream ends and reconnects on its own.
pub fn notify(state: &State) {
    for ws in state.get_websockets() {
        let _ = ws.send_with_str(NOTE);
    }
}

/// A stream's socket closed (the stream ended): complete the closing handshake.
pub fn closed(ws: &WebSocket) {
    let _ = ws.close(Some(1000), Some("stream ended"));
}

/// The hibernation API's socket handlers, the same in every object that holds streams: nothing
/// is read from a stream's socket, and a close completes the handshake ([`closed`]). Used inside
/// `impl DurableObject for …` (workers-rs's defaults panic).
macro_rules! socket_handlers {
    () => {
        async fn websocket_message(
            &self,
            _ws: worker::WebSocket,
            _message: worker::WebSocketIncomingMessage,
        ) -> worker::Result<()> {
            Ok(())
        }

        async fn websocket_close(
            &self,
            ws: worker::WebSocket,
            _code: usize,
            _reason: String,
            _was_clean: bool,
        ) -> worker::Result<()> {
            $crate::objects::live::closed(&ws);
            Ok(())
        }

        async fn websocket_error(
            &self,
            _ws: worker::WebSocket,
            _e: worker::Error,
        ) -> worker::Result<()> {
            Ok(())
        }
    };
}
pub(crate) use socket_handlers;
