//! Live relay: a change accepted from one device reaches every other connected device
//! that holds the document within a second.

use jiuloop_tests::{Auth, Device, LocalDoc, RawClient, TestServer};
use protocol::wire::hashes_to_wire;
use protocol::{DocId, DocKind, ServerMsg};
use std::time::{Duration, Instant};

const WITHIN: Duration = Duration::from_secs(1);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pushed_change_reaches_a_caught_up_client_within_a_second() {
    let server = TestServer::started(&["li", "wang", "zhao"]);
    let a = Device::logged_in(&server, "li");
    let id = a.add_customer("花溪酒庄", &[]);
    a.sync();
    let doc_id: DocId = id.parse().unwrap();

    // The listener authenticates with ?token= (as a browser must) and catches up.
    let device = uuid::Uuid::new_v4();
    let token = server.token("wang", device);
    let mut listener = RawClient::connect(server.addr(), Auth::Query(&token), device).await;
    listener.hello(0).await;
    let up = listener.catch_up().await;
    assert!(up.docs_sent >= 1 && !up.chunks_of(doc_id).is_empty(), "catch-up lacks the customer: {up:?}");
    let mut replica = LocalDoc::from_chunks(doc_id, DocKind::Customer, &listener.actor, &up.chunks_of(doc_id));
    assert_eq!(replica.customer().name, "花溪酒庄");

    // Another raw device edits the customer and pushes.
    let (mut pusher, pushers_view) = RawClient::caught_up(&server, "zhao").await;
    let mut doc = LocalDoc::from_chunks(doc_id, DocKind::Customer, &pusher.actor, &pushers_view.chunks_of(doc_id));
    doc.set_customer("phone", "13700000001");
    let chunk = doc.chunk();
    let watch = tokio::spawn(async move {
        let got = listener.wait_for_doc(doc_id, Duration::from_secs(10)).await;
        (listener, got)
    });
    let answer = pusher.push(vec![chunk]).await;
    let acked_at = Instant::now();
    let seq = match answer {
        ServerMsg::Ack { docs } => {
            assert_eq!(docs.len(), 1, "{docs:?}");
            assert_eq!(docs[0].id, doc_id);
            assert_eq!(docs[0].heads, hashes_to_wire(&doc.heads()));
            assert!(docs[0].seq > up.cursor, "seq {} not past the cursor {}", docs[0].seq, up.cursor);
            docs[0].seq
        }
        other => panic!("expected an ack, got {other:?}"),
    };
    let (mut listener, (arrived, relayed, cursor)) = watch.await.expect("listener task");
    assert!(arrived <= acked_at + WITHIN, "relayed {:?} after the ack", arrived.saturating_duration_since(acked_at));
    assert_eq!(cursor, Some(seq), "a live relay carries the server sequence number");
    replica.apply(&relayed);
    assert_eq!(replica.customer().phone.as_deref(), Some("13700000001"));
    // The pusher does not get its own change back.
    pusher.expect_silence(Duration::from_millis(300)).await;

    // A CLI device's sync reaches the listener too.
    a.ok(&["customer", "set", &id, "notes", "CLI 写的备注"]);
    a.sync();
    let synced_at = Instant::now();
    let (arrived, relayed, cursor) = listener.wait_for_doc(doc_id, Duration::from_secs(10)).await;
    assert!(
        arrived <= synced_at + WITHIN,
        "relayed {:?} after the CLI's sync ended",
        arrived.saturating_duration_since(synced_at)
    );
    assert!(cursor > Some(seq), "cursor {cursor:?} after {seq}");
    replica.apply(&relayed);
    let seen = replica.customer();
    assert_eq!((seen.notes.as_str(), seen.phone.as_deref()), ("CLI 写的备注", Some("13700000001")));
    // And the CLI device got the raw device's phone in the same sync.
    assert_eq!(a.customer(&id)["phone"], "13700000001");
}
