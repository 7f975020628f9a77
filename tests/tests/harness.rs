//! Self-tests of the end-to-end harness: the shared server, a stop/restart on the same state
//! directory, and the webhook receiver. Run with
//! `cargo test -p altinn-events-tests --test harness`.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use altinn_events_tests::server::group_alive;
use altinn_events_tests::{Suite, TestClient, TestReceiver, TestServer};
use serde_json::json;

fn main() -> ExitCode {
    let mut suite = Suite::new();

    suite.test("shared_server_health", |ctx| async move {
        let response = ctx.client().get("/health").send().await;
        response.assert_status(200);
        assert_eq!(response.body, "Healthy");
        let vars = ctx.server().vars();
        assert!(vars
            .iter()
            .any(|(n, v)| n == "EVENTS_BASE_URL" && v == ctx.base_url()));
    });

    suite.test("shared_server_is_shared", |ctx| async move {
        // A second test sees the same, already running server.
        assert!(ctx.server().is_running());
        ctx.client().get("/health").send().await.assert_status(200);
    });

    suite.standalone("restart_on_same_state_dir", || async {
        let first = TestServer::start(&[]);
        let (old_port, old_pgid) = (first.port(), first.pgid());
        eprintln!(
            "restart test: first start ready in {:.1} s",
            first.startup_time().as_secs_f64()
        );
        let response = first.client().get("/health").send().await;
        response.assert_status(200);
        assert_eq!(response.body, "Healthy");

        let stopped_at = Instant::now();
        let state = first.stop();
        eprintln!(
            "restart test: stop took {:.2} s",
            stopped_at.elapsed().as_secs_f64()
        );
        assert!(
            !group_alive(old_pgid),
            "a process of the first server's group {old_pgid} survived stop()"
        );
        let old_addr = SocketAddr::from((Ipv4Addr::LOCALHOST, old_port));
        assert!(
            TcpStream::connect_timeout(&old_addr, Duration::from_secs(2)).is_err(),
            "something still listens on the first server's port {old_port}"
        );

        let second = TestServer::start_with_state(&state, &[]);
        eprintln!(
            "restart test: restart ready in {:.1} s",
            second.startup_time().as_secs_f64()
        );
        assert_eq!(second.state_dir(), state.as_path());
        let response = second.client().get("/health").send().await;
        response.assert_status(200);
        assert_eq!(response.body, "Healthy");
        // The first run's port is still dead (the second got its own port).
        if second.port() != old_port {
            assert!(TcpStream::connect_timeout(&old_addr, Duration::from_secs(2)).is_err());
        }
        let log = std::fs::read_to_string(second.log_path()).expect("wrangler log");
        // At least two: a start whose port was taken meanwhile is retried on another.
        assert!(
            log.matches("=== harness: wrangler dev on port").count() >= 2,
            "both starts logged to {}",
            second.log_path().display()
        );
        let pgid = second.pgid();
        drop(second);
        assert!(!group_alive(pgid), "Drop left processes of group {pgid}");
    });

    suite.standalone("receiver_records_requests_and_fail_times", || async {
        let receiver = TestReceiver::start();
        assert!(receiver.url().ends_with('/'));
        let client = TestClient::new(&receiver.url_path(""));
        receiver.fail_times(2, 503);

        let mut statuses = Vec::new();
        for i in 0..3 {
            let response = client
                .post("/hook?n=1")
                .header("X-Attempt", &i.to_string())
                .cloudevent(&json!({"id": i, "type": "test"}))
                .send()
                .await;
            statuses.push(response.status);
        }
        assert_eq!(statuses, [503, 503, 200]);

        let got = receiver.wait_for(3, Duration::from_secs(5)).await;
        assert_eq!(got.len(), 3);
        for (i, request) in got.iter().enumerate() {
            assert_eq!(request.method, "POST");
            assert_eq!(request.path, "/hook?n=1");
            assert_eq!(request.header("x-attempt"), Some(i.to_string().as_str()));
            assert_eq!(
                request.header("content-type"),
                Some("application/cloudevents+json")
            );
            assert_eq!(request.json(), json!({"id": i, "type": "test"}));
        }
        assert_eq!(
            got.iter().map(|r| r.answered).collect::<Vec<_>>(),
            [503, 503, 200]
        );
        assert!(got[0].at <= got[1].at && got[1].at <= got[2].at);

        receiver.respond_with(410);
        assert_eq!(client.post("/gone").send().await.status, 410);
        receiver.reset_behaviour();
        assert_eq!(client.delete("/x").send().await.status, 200);

        receiver.clear();
        assert!(receiver.requests().is_empty());
        assert!(receiver
            .quiet_for(Duration::from_millis(100))
            .await
            .is_empty());
    });

    suite.standalone("receiver_delay_and_chunked_bodies", || async {
        let receiver = TestReceiver::start();
        receiver.delay(Duration::from_millis(400));
        let started = Instant::now();
        let response = TestClient::new(&receiver.url_path(""))
            .post("/slow")
            .body("text/plain", "x")
            .send()
            .await;
        assert_eq!(response.status, 200);
        assert!(started.elapsed() >= Duration::from_millis(400));
        receiver.delay(Duration::ZERO);

        // A chunked request written by hand (workerd may stream bodies this way).
        let mut stream = TcpStream::connect(receiver.addr()).expect("connect");
        stream
            .write_all(
                b"POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
                  5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n",
            )
            .expect("write");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read");
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");

        let got = receiver.wait_for(2, Duration::from_secs(5)).await;
        assert_eq!(got[0].body, "x");
        assert_eq!(got[1].path, "/chunked");
        assert_eq!(got[1].body, "hello, world");
    });

    suite.run()
}
