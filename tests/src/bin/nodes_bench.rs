//! `cargo run --release -p jiuloop-tests --bin nodes_bench -- [--edits N]`: figures of
//! several servers on one PostgreSQL database (issue 15), against real server processes and
//! a throw-away cluster from Debian's `postgresql`: the latency from a push to node A to
//! its arrival on a device of node B (beside one of node A), and how long the devices
//! of a killed node take to be back in sync through the other. One JSON line per figure.

use jiuloop_server::storage::postgres::test_cluster::TestCluster;
use jiuloop_tests::{LocalDoc, RawClient, TestServer};
use protocol::ServerMsg;
use serde_json::json;
use std::time::{Duration, Instant};

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn main() {
    let edits: usize =
        std::env::args().skip_while(|a| a != "--edits").nth(1).and_then(|v| v.parse().ok()).unwrap_or(200);
    let devices: usize =
        std::env::args().skip_while(|a| a != "--devices").nth(1).and_then(|v| v.parse().ok()).unwrap_or(20);
    // The blocking PostgreSQL client and the server processes start off the runtime.
    let (mut a, b) = std::thread::spawn(|| {
        let url = TestCluster::shared().fresh_database();
        let mut a = TestServer::on_database(&url);
        a.add_user("li", "rep", Some("贵州"));
        a.add_user("wang", "rep", Some("贵州"));
        a.start();
        let mut b = TestServer::on_database(&url);
        b.start();
        (a, b)
    })
    .join()
    .expect("two nodes");
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    runtime.block_on(async {
        let (mut pusher, _) = RawClient::caught_up(&a, "li").await;
        let (mut here, _) = RawClient::caught_up(&a, "wang").await;
        let (mut there, _) = RawClient::caught_up(&b, "wang").await;
        let mut doc = LocalDoc::new_customer(&pusher.actor, "测速客户");
        let id = doc.id;
        assert!(matches!(pusher.push(vec![doc.chunk()]).await, ServerMsg::Ack { .. }));
        here.wait_for_doc(id, Duration::from_secs(10)).await;
        there.wait_for_doc(id, Duration::from_secs(10)).await;
        let (mut same, mut cross) = (Vec::new(), Vec::new());
        for n in 0..edits {
            doc.set_customer("phone", &format!("1380000{n:04}"));
            let sent = Instant::now();
            let answer = pusher.push(vec![doc.chunk()]).await;
            assert!(matches!(answer, ServerMsg::Ack { .. }), "{answer:?}");
            let (t_here, _, _) = here.wait_for_doc(id, Duration::from_secs(10)).await;
            let (t_there, _, _) = there.wait_for_doc(id, Duration::from_secs(10)).await;
            same.push(t_here.saturating_duration_since(sent).as_secs_f64() * 1000.0);
            cross.push(t_there.saturating_duration_since(sent).as_secs_f64() * 1000.0);
        }
        for (what, mut v) in [("same_node", same), ("cross_node", cross)] {
            v.sort_by(f64::total_cmp);
            println!(
                "{}",
                json!({"figure": "push_to_relay_ms", "path": what, "n": v.len(),
                       "p50": round3(percentile(&v, 0.5)), "p99": round3(percentile(&v, 0.99)),
                       "max": round3(v.last().copied().unwrap_or(f64::NAN))})
            );
        }

        // Devices of node A, each holding the customer and a document of its own, then A dies.
        let mut held = Vec::new();
        for i in 0..devices {
            let (mut c, up) = RawClient::caught_up(&a, if i % 2 == 0 { "li" } else { "wang" }).await;
            let mut own = LocalDoc::new_customer(&c.actor, &format!("设备{i}的客户"));
            assert!(matches!(c.push(vec![own.chunk()]).await, ServerMsg::Ack { .. }));
            held.push((up.cursor, own.id));
            drop(c);
        }
        let killed = Instant::now();
        a.kill9();
        let mut back = Vec::new();
        for (i, (cursor, own)) in held.iter().enumerate() {
            let user = if i % 2 == 0 { "li" } else { "wang" };
            let mut c = RawClient::login(&b, user).await;
            c.hello(*cursor).await;
            let up = c.catch_up().await;
            assert!(!up.chunks_of(*own).is_empty(), "{own}, acknowledged by the killed node, is on the other");
            back.push(killed.elapsed().as_secs_f64());
        }
        println!(
            "{}",
            json!({"figure": "killed_node_devices_back_in_sync_s", "devices": devices,
                   "all_back_s": round3(back.last().copied().unwrap_or(f64::NAN)),
                   "first_back_s": round3(back.first().copied().unwrap_or(f64::NAN)),
                   "note": "each device logs in again on the surviving node and catches up from its cursor, one after another"})
        );
    });
    drop(b);
}
