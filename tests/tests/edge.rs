//! The server's edge, probed as an attacker with a valid rep account would: concurrent
//! password guesses, login floods, tokens of disabled users and revoked devices,
//! slowloris headers, WebSockets that never say Hello, connection floods from one
//! address, and an oversized `Hello.client`. Each attack runs against a real server
//! process with an honest client beside it, which must be served all along.

use jiuloop_tests::http::{HttpResponse, request_from};
use jiuloop_tests::{Auth, Device, Incoming, RawClient, TestServer};
use protocol::wire::{ClientMsg, Hello};
use protocol::{ErrorCode, ServerMsg};
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// The server's default header read timeout and Hello deadline.
const EDGE_TIMEOUT: Duration = Duration::from_secs(10);
/// The failure limit of one (user, address) pair.
const PAIR_LIMIT: u64 = 5;

fn ip(s: &str) -> IpAddr {
    s.parse().expect("an IP address")
}

fn login_body(user: &str, password: &str, device: Uuid) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "user": user, "password": password, "device_id": device.to_string(), "device_name": "edge test",
    }))
    .expect("JSON")
}

async fn login_from(server: &TestServer, from: IpAddr, user: &str, password: &str) -> HttpResponse {
    login_device_from(server.addr(), from, user, password, Uuid::new_v4()).await
}

async fn login_device_from(addr: SocketAddr, from: IpAddr, user: &str, password: &str, dev: Uuid) -> HttpResponse {
    let body = login_body(user, password, dev);
    request_from(from, addr, "POST", "/api/login", Some(&body)).await.expect("POST /api/login")
}

fn code(r: &HttpResponse) -> String {
    serde_json::from_slice::<serde_json::Value>(&r.body)
        .ok()
        .and_then(|v| v["code"].as_str().map(String::from))
        .unwrap_or_default()
}

async fn health(addr: SocketAddr) -> serde_json::Value {
    // From an address no test floods, so that the answer comes whatever the caps.
    let r = request_from(ip("127.0.0.9"), addr, "GET", "/health", None).await.expect("GET /health");
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

/// Reads `Error{code}` then the close frame with its code, within `within`.
async fn expect_closed_with(c: &mut RawClient, code: ErrorCode, within: Duration) -> String {
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match c.next(left).await {
            Some(Incoming::Msg(ServerMsg::Error { code: got, message })) => {
                assert_eq!(got, code, "{message}");
                match c.next(Duration::from_secs(5)).await {
                    Some(Incoming::Close(Some(close))) => assert_eq!(close, code.close_code()),
                    other => panic!("expected a close frame after Error({code}), got {other:?}"),
                }
                return message;
            }
            Some(Incoming::Msg(_)) => {}
            None => panic!("the connection was not closed with {code} within {within:?}"),
            Some(other) => panic!("expected Error({code}) before the close, got {other:?}"),
        }
    }
}

/// Reads until the server closes the socket; how long that took from `since`.
fn wait_closed(mut s: TcpStream, since: Instant, patience: Duration) -> (Duration, Vec<u8>) {
    s.set_read_timeout(Some(patience)).expect("read timeout");
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return (since.elapsed(), got),
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
        assert!(since.elapsed() < patience, "the connection stayed open for {patience:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_wrong_passwords_are_checked_at_most_the_limit_and_the_honest_user_logs_in() {
    let server = TestServer::started(&["li", "wang"]);
    let addr = server.addr();
    assert_eq!(health(addr).await["password_checks"], 0);

    // Forty guesses of li's password from one address, all at once.
    let gate = Arc::new(tokio::sync::Barrier::new(40));
    let guesses: Vec<_> = (0..40)
        .map(|i| {
            let gate = gate.clone();
            tokio::spawn(async move {
                let body = login_body("li", &format!("guess-{i}"), Uuid::new_v4());
                gate.wait().await;
                request_from(ip("127.0.0.1"), addr, "POST", "/api/login", Some(&body)).await.expect("answer")
            })
        })
        .collect();
    let mut answers: Vec<(u16, String)> = Vec::new();
    for g in guesses {
        let r = g.await.expect("task");
        answers.push((r.status, code(&r)));
    }
    let wrong = answers.iter().filter(|a| *a == &(401, "bad_credentials".to_string())).count() as u64;
    for a in &answers {
        assert!(
            [(401, "bad_credentials"), (429, "rate_limited"), (503, "busy")].contains(&(a.0, a.1.as_str())),
            "{a:?}"
        );
    }
    let checks = health(addr).await["password_checks"].as_u64().expect("password_checks");
    assert!((1..=PAIR_LIMIT).contains(&checks), "{checks} passwords checked for 40 guesses: {answers:?}");
    assert_eq!(checks, wrong, "every check answered bad_credentials, nothing else was checked");
    // The attacker's address is done for li, even with the right password …
    let r = login_from(&server, ip("127.0.0.1"), "li", jiuloop_tests::PASSWORD).await;
    if wrong == PAIR_LIMIT {
        assert_eq!((r.status, code(&r)), (429, "rate_limited".into()));
    }
    // … while li on another address, and wang, log in.
    let r = login_from(&server, ip("127.0.0.2"), "li", jiuloop_tests::PASSWORD).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = login_from(&server, ip("127.0.0.3"), "wang", jiuloop_tests::PASSWORD).await;
    assert_eq!(r.status, 200, "{}", r.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_burst_beyond_the_queue_is_answered_busy_at_once_and_a_retry_succeeds() {
    // One checking thread and room for two waiting: three logins at a time.
    let users: Vec<String> = (0..12).map(|i| format!("rep{i}")).collect();
    let names: Vec<&str> = users.iter().map(String::as_str).collect();
    let server = TestServer::started_with(&["--login-threads", "1", "--login-queue", "2"], &names);
    let addr = server.addr();
    // Four users from each of three addresses: under every per-user and per-address cap,
    // so only the queue is in the way.
    let gate = Arc::new(tokio::sync::Barrier::new(users.len()));
    let burst: Vec<_> = users
        .iter()
        .enumerate()
        .map(|(i, user)| {
            let (gate, user) = (gate.clone(), user.clone());
            let from = ip(&format!("127.0.0.{}", 1 + i % 3));
            tokio::spawn(async move {
                let dev = Uuid::new_v4();
                gate.wait().await;
                let sent = Instant::now();
                let r = login_device_from(addr, from, &user, jiuloop_tests::PASSWORD, dev).await;
                (user, from, dev, r, sent.elapsed())
            })
        })
        .collect();
    let mut busy = Vec::new();
    let mut ok = 0;
    let mut slowest_busy = Duration::ZERO;
    for t in burst {
        let (user, from, dev, r, took) = t.await.expect("task");
        assert!(took < Duration::from_secs(20), "{user}'s login took {took:?}");
        match (r.status, code(&r).as_str()) {
            (200, _) => ok += 1,
            (503, "busy") => {
                assert_eq!(r.header("retry-after"), Some("1"));
                slowest_busy = slowest_busy.max(took);
                busy.push((user, from, dev));
            }
            other => panic!("{user}: {other:?} {}", r.text()),
        }
    }
    assert!(!busy.is_empty() && ok >= 1, "{ok} logged in, {} busy", busy.len());
    assert!(slowest_busy < Duration::from_secs(3), "busy answers must come at once, the slowest took {slowest_busy:?}");
    assert_eq!(health(addr).await["logins_busy"].as_u64(), Some(busy.len() as u64));
    // Retrying, one at a time, gets everyone in.
    for (user, from, dev) in busy {
        let r = login_device_from(addr, from, &user, jiuloop_tests::PASSWORD, dev).await;
        assert_eq!(r.status, 200, "{user}'s retry: {}", r.text());
    }
    let log = server.log();
    assert!(log.contains("code=\"busy\"") || log.contains("code=busy"), "busy logins are logged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabling_then_enabling_a_user_revokes_their_old_tokens_for_good() {
    let server = TestServer::started(&["li", "wang"]);
    let device = Uuid::new_v4();
    let old = server.token("li", device);
    let mut li = RawClient::connect(server.addr(), Auth::Bearer(&old), device).await;
    li.hello(0).await;
    li.catch_up().await;
    let (mut wang, _) = RawClient::caught_up(&server, "wang").await;

    let said = server.admin_ok(&["user", "disable", "li"]);
    assert!(said.contains("closed 1"), "{said}");
    expect_closed_with(&mut li, ErrorCode::Revoked, Duration::from_secs(5)).await;
    server.admin_ok(&["user", "enable", "li"]);

    // The old token does not come back; a new login on the same device works and syncs.
    let refused = RawClient::try_connect(server.addr(), Auth::Bearer(&old)).await.expect_err("old token");
    assert_eq!((refused.status, refused.code().as_deref()), (401, Some("unauthorized")));
    let new = server.token("li", device);
    let mut li = RawClient::connect(server.addr(), Auth::Bearer(&new), device).await;
    li.hello(0).await;
    li.catch_up().await;
    // wang was never touched.
    wang.expect_silence(Duration::from_millis(200)).await;
    let revoked: i64 = server
        .db()
        .query_row("SELECT revoked FROM tokens WHERE user = 'li' ORDER BY created_at LIMIT 1", [], |r| r.get(0))
        .expect("li's first token");
    assert_eq!(revoked, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_device_is_refused_for_good_and_the_users_other_device_works() {
    let server = TestServer::started(&["li"]);
    let (phone, laptop) = (Uuid::new_v4(), Uuid::new_v4());
    let phone_token = server.token("li", phone);
    let laptop_token = server.token("li", laptop);
    let mut on_phone = RawClient::connect(server.addr(), Auth::Bearer(&phone_token), phone).await;
    on_phone.hello(0).await;
    on_phone.catch_up().await;

    server.admin_ok(&["device", "revoke", &phone.to_string()]);
    expect_closed_with(&mut on_phone, ErrorCode::Revoked, Duration::from_secs(5)).await;
    let refused = RawClient::try_connect(server.addr(), Auth::Bearer(&phone_token)).await.expect_err("revoked");
    assert_eq!((refused.status, refused.code().as_deref()), (403, Some("revoked")));
    // Logging in again does not bring the device back.
    let r = server.login("li", jiuloop_tests::PASSWORD, phone);
    assert_eq!((r.status, r.json()["code"].as_str()), (403, Some("revoked")));
    let db = server.db();
    let live: i64 = db
        .query_row("SELECT count(*) FROM tokens WHERE device = ?1 AND revoked = 0", [phone.to_string()], |r| r.get(0))
        .expect("count");
    assert_eq!(live, 0, "every token of the device is revoked in the database");

    // The laptop, same user, syncs.
    let mut on_laptop = RawClient::connect(server.addr(), Auth::Bearer(&laptop_token), laptop).await;
    on_laptop.hello(0).await;
    on_laptop.catch_up().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_headers_are_cut_after_the_timeout_while_honest_clients_are_served() {
    let server = TestServer::started(&["li"]);
    let addr = server.addr();
    let started = Instant::now();
    // Half a header, then nothing.
    let mut half = TcpStream::connect(addr).expect("connect");
    half.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ").expect("write");
    // A header byte every half second: trickling does not extend the deadline.
    let trickler = std::thread::spawn(move || {
        let mut s = TcpStream::connect(addr).expect("connect");
        let since = Instant::now();
        let _ = s.write_all(b"GET /health HTTP/1.1\r\n");
        for _ in 0..60 {
            if s.write_all(b"a").is_err() {
                return since.elapsed();
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        since.elapsed()
    });
    // Meanwhile an honest device logs in, edits and syncs.
    let honest = Device::logged_in(&server, "li");
    honest.add_customer("慢速攻击期间的客户", &[]);
    honest.sync();
    assert_eq!(server.health().status, 200);
    eprintln!("the honest device was served {:?} after the slow headers started", started.elapsed());

    let (waited, answer) = wait_closed(half, started, Duration::from_secs(40));
    assert!(answer.is_empty(), "{:?}", String::from_utf8_lossy(&answer));
    assert!(waited >= EDGE_TIMEOUT - Duration::from_millis(500) && waited < EDGE_TIMEOUT * 2, "{waited:?}");
    let trickled = trickler.join().expect("trickler");
    assert!(trickled < EDGE_TIMEOUT * 2, "a trickling header was held {trickled:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_that_never_says_hello_is_closed_while_an_honest_device_syncs() {
    let server = TestServer::started(&["li", "wang"]);
    let token = server.token("wang", Uuid::new_v4());
    let started = Instant::now();
    let mut mute = RawClient::connect(server.addr(), Auth::Bearer(&token), Uuid::new_v4()).await;
    let honest = Device::logged_in(&server, "li");
    honest.add_customer("沉默连接期间的客户", &[]);
    honest.sync();
    eprintln!("the honest device synced {:?} after the mute connection opened", started.elapsed());
    let message = expect_closed_with(&mut mute, ErrorCode::Timeout, EDGE_TIMEOUT * 3).await;
    let waited = started.elapsed();
    assert!(waited >= EDGE_TIMEOUT - Duration::from_millis(500), "closed after {waited:?}");
    assert!(message.contains("Hello"), "{message}");
    // A connection that says Hello in time stays open past the deadline.
    let (mut on_time, _) = RawClient::caught_up(&server, "wang").await;
    on_time.expect_silence(EDGE_TIMEOUT + Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_caps_are_refused_and_other_addresses_are_served() {
    let server = TestServer::started_with(&["--max-connections", "6", "--max-connections-per-address", "3"], &["li"]);
    let addr = server.addr();
    let device = Uuid::new_v4();
    let token = server.token("li", device);
    // From 127.0.0.1: a WebSocket (it holds its slot after the upgrade) and two idle sockets.
    let mut ws = RawClient::connect(addr, Auth::Bearer(&token), device).await;
    ws.hello(0).await;
    ws.catch_up().await;
    let idle: Vec<TcpStream> = (0..2).map(|_| TcpStream::connect(addr).expect("connect")).collect();
    std::thread::sleep(Duration::from_millis(100));
    // The fourth from 127.0.0.1 is refused at once: a 503 busy, or the socket closed.
    let started = Instant::now();
    match request_from(ip("127.0.0.1"), addr, "GET", "/health", None).await {
        Ok(r) => assert_eq!((r.status, code(&r)), (503, "busy".into()), "{}", r.text()),
        Err(e) => eprintln!("refused by closing: {e}"),
    }
    assert!(started.elapsed() < Duration::from_secs(2));
    // 127.0.0.2 is served; its connections count toward the total of six.
    let r = request_from(ip("127.0.0.2"), addr, "GET", "/health", None).await.expect("health from 127.0.0.2");
    assert_eq!(r.status, 200);
    assert!(r.json()["connections_refused"].as_u64() >= Some(1));
    std::thread::sleep(Duration::from_millis(200));
    let mut more = Vec::new();
    for _ in 0..3 {
        more.push(socket_from(ip("127.0.0.2"), addr).await);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    std::thread::sleep(Duration::from_millis(100));
    // Over the total: a 503 busy, or the socket closed.
    if let Ok(r) = request_from(ip("127.0.0.3"), addr, "GET", "/health", None).await {
        assert_eq!(r.status, 503, "over the total: {}", r.text());
    }
    // Slots come back when connections close: the WebSocket's too.
    drop(more);
    ws.close().await;
    drop(idle);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match request_from(ip("127.0.0.1"), addr, "GET", "/health", None).await {
            Ok(r) if r.status == 200 => break,
            _ if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            other => panic!("127.0.0.1 was not served again: {:?}", other.map(|r| r.status)),
        }
    }
}

/// A connection from `from` that sends nothing.
async fn socket_from(from: IpAddr, addr: SocketAddr) -> tokio::net::TcpStream {
    let s = tokio::net::TcpSocket::new_v4().expect("socket");
    s.bind(SocketAddr::new(from, 0)).expect("bind");
    s.connect(addr).await.expect("connect")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_hello_client_is_malformed_and_the_log_keeps_at_most_the_cap() {
    const CAP: usize = 128;
    let server = TestServer::started(&["li"]);
    let hello = |c: &RawClient, client: String| {
        ClientMsg::Hello(Hello { device_id: c.device_id, actors: vec![c.actor.to_bytes().to_vec()], cursor: 0, client })
    };
    // The cap itself is fine, and is what the log shows.
    let mut fine = RawClient::login(&server, "li").await;
    fine.send(&hello(&fine, "Y".repeat(CAP))).await;
    fine.catch_up().await;
    // Three megabytes are not.
    let mut huge = RawClient::login(&server, "li").await;
    huge.send(&hello(&huge, "Z".repeat(3_000_000))).await;
    let code = huge.expect_error_close().await;
    assert_eq!(code, ErrorCode::Malformed);
    // One over the cap neither.
    let mut over = RawClient::login(&server, "li").await;
    over.send(&hello(&over, "Z".repeat(CAP + 1))).await;
    assert_eq!(over.expect_error_close().await, ErrorCode::Malformed);
    fine.expect_silence(Duration::from_millis(100)).await;

    let log = server.log();
    assert!(log.contains(&"Y".repeat(CAP)), "the accepted client text is logged");
    assert!(!log.contains(&"Z".repeat(CAP + 1)), "more than {CAP} characters of a client text reached the log");
    assert!(!log.contains(&"Y".repeat(CAP + 1)));
}
