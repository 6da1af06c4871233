//! `/metrics` for IT: Prometheus' text format, counting what the server really did — over a
//! real server process, a CLI device and a raw client.

use jiuloop_tests::load::metrics::sample;
use jiuloop_tests::{LocalDoc, RawClient, TestServer};
use protocol::ServerMsg;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_logins_pushes_acks_and_refusals() {
    let server = TestServer::started(&["li"]);
    let wrong = server.login("li", "not the password", uuid::Uuid::new_v4());
    assert_eq!(wrong.status, 401);
    let (mut li, _) = RawClient::caught_up(&server, "li").await;
    let mut ours = LocalDoc::new_customer(&li.actor, "我们的客户");
    assert!(matches!(li.push(vec![ours.chunk()]).await, ServerMsg::Ack { .. }));
    let mut theirs = LocalDoc::new_customer_in(&li.actor, "别人的客户", "四川");
    assert!(matches!(li.push(vec![theirs.chunk()]).await, ServerMsg::Refused { .. }));

    let r = jiuloop_tests::http::get(server.addr(), "/metrics").expect("GET /metrics");
    assert_eq!(r.status, 200);
    let text = String::from_utf8_lossy(&r.body).to_string();
    assert!(
        r.headers.iter().any(|(k, v)| k.eq_ignore_ascii_case("content-type") && v.starts_with("text/plain")),
        "{:?}",
        r.headers
    );
    assert_eq!(sample(&text, "jiuloop_logins_total{outcome=\"ok\"}"), Some(1.0), "{text}");
    assert_eq!(sample(&text, "jiuloop_logins_total{outcome=\"bad_credentials\"}"), Some(1.0), "{text}");
    assert_eq!(sample(&text, "jiuloop_push_frames_total"), Some(2.0), "{text}");
    assert_eq!(sample(&text, "jiuloop_acked_documents_total"), Some(1.0), "{text}");
    let refused: f64 = text
        .lines()
        .filter(|l| l.starts_with("jiuloop_refusals_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert_eq!(refused, 1.0, "{text}");
    assert_eq!(sample(&text, "jiuloop_connections"), Some(1.0), "{text}");
    assert!(sample(&text, "jiuloop_password_checks_total").is_some_and(|n| n >= 2.0), "{text}");
    assert!(text.contains("jiuloop_hub_batch_seconds_bucket"), "{text}");
    // Every frame the server wrote was timed from commit to socket: at least the hello's
    // catch-up, the ack and the refusal.
    assert!(sample(&text, "jiuloop_delivery_seconds_count").is_some_and(|n| n >= 3.0), "{text}");
    assert!(text.contains("jiuloop_delivery_seconds_bucket{le="), "{text}");
}
