//! Contracts, expenses and attachments over the whole system — a real server process on
//! loopback, real CLI profiles (SQLite files), raw protocol clients beside honest ones:
//!
//! - attachments: an upload cut off mid-file resumes without resending what was
//!   acknowledged, also after `kill -9`; the same file twice is stored once; oversized and
//!   wrong-type files are refused with a clear error and nothing stored; a raw client
//!   guessing the hash and a rep of another territory get nothing, the manager of the
//!   territory gets the file;
//! - an expense: rep (offline) → manager → executive → finance: an over-budget claim gets
//!   the server's verdict until a supplementary request is approved, a receipt claimed
//!   twice is flagged, a colleague's SQLite file holds none of it;
//! - an expense request over what its budget has left: the device shows it before
//!   submitting, the approval is refused (by the honest device; by the server for a stale
//!   device, into its inbox, and for a raw client, beside an honest raw control) until a
//!   supplementary request covering the excess is approved by the executive;
//! - a contract: rep → legal → rep → legal → sign → finance and logistics: legal cannot
//!   approve over an unresolved comment, an edit after signing is refused by the server
//!   (raw client too) and lands in the author's inbox, the order above the threshold stays
//!   unconfirmed until its contract is signed;
//! - clause templates are legal's (a rep's device and a rep's raw client are refused) and a
//!   rep's draft starts from one; a contract's fulfilment (未履行 / 部分履行 / 已履行)
//!   follows the order it covers as logistics ships and delivers it, on the command line.

use jiuloop_tests::{Device, LocalDoc, RawClient, TempDir, TestServer};
use protocol::blob::{BLOB_CHUNK_BYTES, digest, hex};
use protocol::{ClientMsg, DocId, ErrorCode, ServerMsg};
use serde_json::Value;
use std::path::{Path, PathBuf};

const GZ: &str = "贵州";
const SC: &str = "四川";

/// A JPEG-looking file of `len` bytes (its first bytes are a JPEG's), different per `seed`.
fn jpeg(len: usize, seed: u8) -> Vec<u8> {
    let mut v = vec![0xFF, 0xD8, 0xFF, 0xE0];
    let mut x: u32 = 0x9E37_79B9 ^ u32::from(seed);
    while v.len() < len {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        v.push((x & 0xFF) as u8);
    }
    v
}

fn stored_blobs(server: &TestServer) -> Vec<PathBuf> {
    let root = server.data_dir().join("blobs");
    let mut out = Vec::new();
    for shard in std::fs::read_dir(&root).expect("blob dir") {
        let shard = shard.unwrap();
        if shard.file_name() == "uploads" || !shard.file_type().unwrap().is_dir() {
            continue;
        }
        for f in std::fs::read_dir(shard.path()).unwrap() {
            out.push(f.unwrap().path());
        }
    }
    out
}

fn unfinished_uploads(server: &TestServer) -> usize {
    std::fs::read_dir(server.data_dir().join("blobs").join("uploads")).map_or(0, |d| d.count())
}

async fn start(c: &mut RawClient, bytes: &[u8]) -> ServerMsg {
    c.send(&ClientMsg::BlobStart { hash: digest(bytes), size: bytes.len() as u64 }).await;
    c.recv().await
}

async fn put(c: &mut RawClient, bytes: &[u8], offset: usize) -> ServerMsg {
    let end = (offset + BLOB_CHUNK_BYTES).min(bytes.len());
    let msg = ClientMsg::BlobPut {
        hash: digest(bytes),
        size: bytes.len() as u64,
        offset: offset as u64,
        bytes: bytes[offset..end].to_vec(),
    };
    c.send(&msg).await;
    c.recv().await
}

async fn get(c: &mut RawClient, hash: [u8; 32]) -> ServerMsg {
    c.send(&ClientMsg::BlobGet { hash, offset: 0 }).await;
    c.recv().await
}

fn progress(m: &ServerMsg) -> u64 {
    match m {
        ServerMsg::BlobProgress { received, .. } => *received,
        other => panic!("expected BlobProgress, got {other:?}"),
    }
}

fn refused(m: &ServerMsg) -> (ErrorCode, String) {
    match m {
        ServerMsg::BlobRefused { code, message, .. } => (*code, message.clone()),
        other => panic!("expected BlobRefused, got {other:?}"),
    }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p.to_str().unwrap().to_string()
}

fn file_holds(path: &Path, needle: &str) -> bool {
    let bytes = std::fs::read(path).expect("read the file");
    bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// Everyone of the scenarios: a manager (zhang) of 贵州 with two reps (li, zhou), a rep
/// of 四川 (wang), finance (qian), logistics (sun), legal (lv), an executive (zhao).
fn company(args: &[&str]) -> TestServer {
    let mut s = TestServer::with_args(args);
    s.add_user("zhang", "manager", Some(GZ));
    s.add_user_with("li", "rep", Some(GZ), Some("zhang"));
    s.add_user_with("zhou", "rep", Some(GZ), Some("zhang"));
    s.add_user("wang", "rep", Some(SC));
    s.add_user("qian", "finance", None);
    s.add_user("sun", "logistics", None);
    s.add_user("lv", "legal", None);
    s.add_user("zhao", "executive", None);
    s.start();
    s
}

/// A budget for 贵州 2026: travel in November 1000 yuan, entertainment 5000 in November and
/// 6000 in December, drafted by zhang, approved by zhao.
fn approved_budget(manager: &Device, executive: &Device) -> String {
    let b = manager.ok(&["budget", "new", "--team", GZ, "--year", "2026", "--title", "贵州 2026 销售费用"]);
    manager.ok(&["budget", "line", &b, "--item", "travel", "--month", "11", "--amount", "1000"]);
    manager.ok(&["budget", "line", &b, "--item", "entertainment", "--month", "11", "--amount", "5000"]);
    manager.ok(&["budget", "line", &b, "--item", "entertainment", "--month", "12", "--amount", "6000"]);
    assert_eq!(manager.ok(&["budget", "submit", &b]), "1");
    manager.sync();
    executive.sync();
    executive.ok(&["budget", "approve", &b, "--version", "1"]);
    executive.sync();
    b
}

#[test]
fn attachments_resume_dedupe_refuse_and_are_read_only_through_a_readable_document() {
    let mut server = company(&["--max-blob-mb", "1"]);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let file = jpeg(700_000, 1);
    let hash = digest(&file);

    rt.block_on(async {
        // Upload two chunks, then the connection drops.
        let (mut li, _) = RawClient::caught_up(&server, "li").await;
        assert_eq!(progress(&start(&mut li, &file).await), 0);
        assert_eq!(progress(&put(&mut li, &file, 0).await), BLOB_CHUNK_BYTES as u64);
        assert_eq!(progress(&put(&mut li, &file, BLOB_CHUNK_BYTES).await), 2 * BLOB_CHUNK_BYTES as u64);
        drop(li);
    });
    // kill -9 loses nothing acknowledged.
    server.kill9();
    server.restart();
    rt.block_on(async {
        let (mut li, _) = RawClient::caught_up(&server, "li").await;
        let resumed = progress(&start(&mut li, &file).await);
        assert_eq!(resumed, 2 * BLOB_CHUNK_BYTES as u64, "the acknowledged chunks are kept: nothing is resent");
        // A chunk sent at the wrong offset changes nothing; the server says where it is.
        assert_eq!(progress(&put(&mut li, &file, 0).await), resumed);
        match put(&mut li, &file, resumed as usize).await {
            ServerMsg::BlobStored { hash: h, size, mime } => {
                assert_eq!((h, size, mime.as_str()), (hash, file.len() as u64, "image/jpeg"))
            }
            other => panic!("expected BlobStored, got {other:?}"),
        }
        // The same file again: stored already, nothing to send.
        assert!(matches!(start(&mut li, &file).await, ServerMsg::BlobStored { .. }));

        // Oversized: refused before anything is stored.
        let big = jpeg(1024 * 1024 + 1, 2);
        let (code, message) = refused(&start(&mut li, &big).await);
        assert_eq!(code, ErrorCode::BlobTooLarge);
        assert!(message.contains("1 MB"), "{message}");
        let (code, _) = refused(&put(&mut li, &big, 0).await);
        assert_eq!(code, ErrorCode::BlobTooLarge);
        // Wrong type (an HTML page named .jpg): refused at its first bytes.
        let html = b"<html><body>not a receipt</body></html>".to_vec();
        assert_eq!(progress(&start(&mut li, &html).await), 0);
        let (code, message) = refused(&put(&mut li, &html, 0).await);
        assert_eq!(code, ErrorCode::BlobType);
        assert!(message.contains("PDF"), "{message}");

        // Another user uploading the same content uploads it whole (nobody learns that
        // someone else has it) and it is kept once.
        let (mut wang, _) = RawClient::caught_up(&server, "wang").await;
        assert_eq!(progress(&start(&mut wang, &file).await), 0);
        let mut at = 0;
        loop {
            match put(&mut wang, &file, at).await {
                ServerMsg::BlobProgress { received, .. } => at = received as usize,
                ServerMsg::BlobStored { .. } => break,
                other => panic!("{other:?}"),
            }
        }
        // Uploading grants nothing to read: no readable document references it.
        assert_eq!(refused(&get(&mut wang, hash).await).0, ErrorCode::BlobUnavailable);
        // A guessed hash and an unknown one are answered alike.
        assert_eq!(refused(&get(&mut wang, digest(b"guess")).await).0, ErrorCode::BlobUnavailable);
    });
    assert_eq!(stored_blobs(&server).len(), 1, "one file on disk for the same content");
    assert_eq!(unfinished_uploads(&server), 0, "refused uploads leave nothing behind");

    // Now an honest flow: li's claim references a receipt; the team's manager may fetch
    // it, a rep of another territory may not.
    let dir = TempDir::new("attachments");
    let li = Device::logged_in(&server, "li");
    let zhang = Device::logged_in(&server, "zhang");
    let zhao = Device::logged_in(&server, "zhao");
    let wang = Device::logged_in(&server, "wang");
    li.sync();
    let budget = approved_budget(&zhang, &zhao);
    li.sync();
    let receipt = jpeg(300_000, 3);
    let claim = li.ok(&[
        "expense",
        "claim",
        "--budget",
        &budget,
        "--item",
        "travel",
        "--purpose",
        "出差",
        "--date",
        "2026-11-03",
    ]);
    let h =
        li.ok(&["expense", "receipt", &claim, "--file", &write(dir.path(), "hotel.jpg", &receipt), "--amount", "300"]);
    assert_eq!(h, hex(&digest(&receipt)));
    li.ok(&["expense", "submit", &claim]);
    li.sync();
    assert_eq!(stored_blobs(&server).len(), 2, "the receipt was uploaded with the sync");

    zhang.sync();
    let out = dir.path().join("got.jpg");
    zhang.ok(&["attach", "get", &h, "--out", out.to_str().unwrap()]);
    assert_eq!(std::fs::read(&out).unwrap(), receipt, "the manager of the territory reads it");

    wang.sync();
    let why = wang.fail(&["attach", "get", &h, "--out", dir.path().join("no.jpg").to_str().unwrap()]);
    assert!(why.contains("no such attachment"), "{why}");
    assert!(!dir.path().join("no.jpg").exists());
    // The manager's device caps the space fetched files take: the oldest goes first.
    let second = jpeg(300_000, 4);
    let other = li.ok(&[
        "expense",
        "claim",
        "--budget",
        &budget,
        "--item",
        "travel",
        "--purpose",
        "出差",
        "--date",
        "2026-11-04",
    ]);
    let h2 =
        li.ok(&["expense", "receipt", &other, "--file", &write(dir.path(), "taxi.jpg", &second), "--amount", "80"]);
    li.ok(&["expense", "submit", &other]);
    li.sync();
    zhang.sync();
    zhang.ok(&["attach", "cap", "--mb", "0.5"]);
    zhang.ok(&["attach", "get", &h2, "--out", dir.path().join("got2.jpg").to_str().unwrap()]);
    let held: Vec<String> = zhang
        .json(&["attach", "list"])
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["hash"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(held, vec![h2.clone()], "under a 0.5 MB cap only the newest fetched file stays");
    assert_eq!(std::fs::read(dir.path().join("got2.jpg")).unwrap(), second);

    rt.block_on(async {
        let (mut raw, _) = RawClient::caught_up(&server, "wang").await;
        assert_eq!(refused(&get(&mut raw, digest(&receipt)).await).0, ErrorCode::BlobUnavailable);
        // A colleague of the same team does not read li's claims (scope own): nothing either.
        let (mut zhou, _) = RawClient::caught_up(&server, "zhou").await;
        assert_eq!(refused(&get(&mut zhou, digest(&receipt)).await).0, ErrorCode::BlobUnavailable);
    });
}

fn expense(d: &Device, id: &str) -> Value {
    d.json(&["expense", "show", id])
}

fn verdict(d: &Device, id: &str) -> String {
    let v = expense(d, id);
    v["verdict"]["verdict"].as_str().unwrap_or_else(|| panic!("no verdict yet: {v:#}")).to_string()
}

#[test]
fn an_expense_goes_from_the_rep_offline_to_the_manager_the_executive_and_finance() {
    let server = company(&[]);
    let dir = TempDir::new("expense");
    let li = Device::logged_in(&server, "li");
    let zhou = Device::logged_in(&server, "zhou");
    let zhang = Device::logged_in(&server, "zhang");
    let zhao = Device::logged_in(&server, "zhao");
    let qian = Device::logged_in(&server, "qian");
    let budget = approved_budget(&zhang, &zhao);
    li.sync();
    let shown = li.json(&["budget", "show", &budget]);
    assert_eq!(shown["items"].as_array().map(|a| a.len()), Some(2), "{shown:#}");

    // Offline: a 1200-yuan hotel claim against 1000 yuan of travel budget.
    let hotel = jpeg(40_000, 7);
    let claim = li.ok(&[
        "expense",
        "claim",
        "--budget",
        &budget,
        "--item",
        "travel",
        "--purpose",
        "遵义出差住宿",
        "--date",
        "2026-11-12",
    ]);
    li.ok(&["expense", "receipt", &claim, "--file", &write(dir.path(), "hotel.jpg", &hotel), "--amount", "1200"]);
    let local = expense(&li, &claim);
    assert_eq!(local["remaining_fen"], 100_000, "what is left shows offline: {local:#}");
    assert_eq!(local["over_budget"], true, "{local:#}");
    li.ok(&["expense", "submit", &claim]);
    li.sync();
    assert_eq!(verdict(&li, &claim), "needs_supplement");

    // The manager approves it; still over budget.
    zhang.sync();
    let queue = zhang.json(&["expense", "approvals"]);
    assert!(queue.as_array().unwrap().iter().any(|v| v["id"] == claim.as_str()), "{queue:#}");
    zhang.ok(&["expense", "approve", &claim]);
    zhang.sync();
    li.sync();
    assert_eq!(verdict(&li, &claim), "needs_supplement");

    // Finance checks the receipt, but may not pay an over-budget claim: its device refuses,
    // and the server refuses a raw client's reimbursement (nothing stored).
    qian.sync();
    qian.ok(&["expense", "check", &claim, "--receipt", "1", "--sanctioned", "1200", "--reason", "票据齐全"]);
    let err = qian.fail(&["expense", "reimburse", &claim]);
    assert!(err.contains("追加") || err.contains("supplement"), "{err}");
    qian.sync();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let raw_reimbursement =
        |raw: &RawClient| raw_step(&server, raw, &claim, protocol::DocKind::ExpenseClaim, "reimbursed", "qian", None);
    rt.block_on(async {
        let (mut raw, _) = RawClient::caught_up(&server, "qian").await;
        let before = server.counts();
        match raw.push(vec![raw_reimbursement(&raw)]).await {
            ServerMsg::Refused { refusals } => {
                let r = &refusals[0];
                assert_eq!((r.code, r.rule.as_str()), (ErrorCode::Forbidden, "claim-needs-supplement"), "{r:?}");
                assert!(r.message.contains("200.00"), "the excess is named: {}", r.message);
            }
            other => panic!("an over-budget reimbursement was not refused: {other:?}"),
        }
        assert_eq!(server.counts(), before, "nothing of the refused reimbursement is stored");
    });
    assert_eq!(expense(&qian, &claim)["lifecycle"]["status"], "approved");

    // A supplementary request of 300 yuan, approved by the executive: within budget.
    let sup = li.ok(&[
        "expense",
        "supplement",
        "--budget",
        &budget,
        "--item",
        "travel",
        "--month",
        "11",
        "--amount",
        "300",
        "--reason",
        "旺季房价上涨",
    ]);
    li.ok(&["expense", "submit", &sup]);
    li.sync();
    zhao.sync();
    zhao.ok(&["expense", "approve", &sup]);
    zhao.sync();
    li.sync();
    assert_eq!(verdict(&li, &claim), "within_budget");

    // The same invoice photo in a second claim: flagged.
    let again = li.ok(&[
        "expense",
        "claim",
        "--budget",
        &budget,
        "--item",
        "entertainment",
        "--purpose",
        "宴请",
        "--date",
        "2026-11-13",
    ]);
    li.ok(&["expense", "receipt", &again, "--file", &write(dir.path(), "copy.jpg", &hotel), "--amount", "200"]);
    li.ok(&["expense", "submit", &again]);
    li.sync();
    let v = expense(&li, &again);
    assert!(
        v["verdict"]["reasons"].as_array().unwrap().iter().any(|r| r == "receipt-claimed-before"),
        "a receipt claimed twice is flagged: {v:#}"
    );
    assert_eq!(v["verdict"]["duplicates"][0][1], claim.as_str(), "{v:#}");
    let first = expense(&li, &claim);
    assert!(first["verdict"]["duplicates"].as_array().unwrap().is_empty(), "the first claim is not: {first:#}");

    // With the supplement approved, finance reimburses (the same step refused before: the
    // honest control); the budget counts it as spent.
    qian.sync();
    let fq = qian.json(&["expense", "finance"]);
    assert!(fq.as_array().unwrap().iter().any(|v| v["id"] == claim.as_str()), "{fq:#}");
    qian.ok(&["expense", "reimburse", &claim]);
    qian.sync();
    li.sync();
    let done = expense(&li, &claim);
    assert_eq!(done["lifecycle"]["status"], "reimbursed", "{done:#}");
    let b = li.json(&["budget", "show", &budget]);
    let travel = b["items"].as_array().unwrap().iter().find(|c| c["item"] == "travel").cloned().unwrap();
    assert_eq!(travel["spent_fen"], 120_000, "{b:#}");

    // The colleague in the same team holds none of li's claims.
    zhou.sync();
    for doc in zhou.stored_docs() {
        assert!(doc.id != claim && doc.id != again, "zhou holds {doc:?}");
    }
    let file = zhou.profile().join("jiuloop.db");
    for needle in [claim.as_str(), again.as_str(), "遵义出差住宿"] {
        assert!(!file_holds(&file, needle), "{needle} is in zhou's file");
    }
    // And the server never rewrote the claim: its author's content is what li wrote.
    let id = DocId(uuid::Uuid::parse_str(&claim).unwrap());
    assert!(server.doc_chunk(id).is_some());
}

fn contract(d: &Device, id: &str) -> Value {
    d.json(&["contract", "show", id])
}

fn order_status(d: &Device, order: &str) -> String {
    d.order(order)["lifecycle"]["status"].as_str().expect("a status").to_string()
}

#[test]
fn a_contract_goes_rep_legal_rep_legal_signed_locked_and_distributed() {
    let server = company(&[]);
    let policy = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/policy.csv");
    server.admin_ok(&["policy", "import", policy.to_str().unwrap()]);
    let dir = TempDir::new("contract");
    let li = Device::logged_in(&server, "li");
    let lv = Device::logged_in(&server, "lv");
    let zhao = Device::logged_in(&server, "zhao");
    let qian = Device::logged_in(&server, "qian");
    let sun = Device::logged_in(&server, "sun");
    // Orders above 5000 yuan need a signed contract.
    zhao.sync();
    zhao.ok(&["new", "approval-policy", "contract_above=5000"]);
    zhao.sync();
    li.sync();

    let customer = li.add_customer("茅台镇酒楼", &["--channel", "restaurant"]);
    let order = li.ok(&["order", "new", "--customer", &customer]);
    li.ok(&["order", "add-line", &order, "--sku", "SC-52-500", "--qty", "12", "--unit-price", "53900"]);
    li.ok(&["order", "submit", &order]);
    li.sync();
    assert_eq!(order_status(&li, &order), "awaiting-contract", "{:#}", li.order(&order));

    let c = li.ok(&["contract", "draft", "--order", &order, "--title", "茅台镇酒楼 2026 供货合同"]);
    li.ok(&["set", &c, "clauses=第一条 供货范围\n第二条 付款方式：货到30日内付款\n第三条 质量标准"]);
    li.ok(&["contract", "submit", &c]);
    li.sync();

    // Legal comments on a clause and asks for changes; cannot approve over it.
    lv.sync();
    // A second device of legal's, synced now, approves offline without seeing the comment.
    let lv2 = Device::logged_in(&server, "lv");
    lv2.sync();
    lv2.ok(&["contract", "approve", &c]);
    let queue = lv.json(&["contract", "queue"]);
    assert!(queue.as_array().unwrap().iter().any(|v| v["id"] == c.as_str()), "{queue:#}");
    lv.ok(&["contract", "review", &c]);
    lv.ok(&["contract", "comment", &c, "--clause", "第二条", "--text", "付款期限改为15日"]);
    let why = lv.fail(&["contract", "approve", &c]);
    assert!(!why.is_empty());
    lv.ok(&["contract", "changes", &c, "--note", "见第二条意见"]);
    lv.sync();
    // Its approval reaches the server after the comment: refused there, in its inbox.
    lv2.sync();
    let inbox = lv2.inbox();
    assert!(inbox.to_string().contains("unresolved"), "{inbox:#}");
    assert_eq!(contract(&lv2, &c)["lifecycle"]["status"], "changes-requested");

    // The rep revises (offline), resolves the comment, resubmits.
    li.sync();
    assert_eq!(contract(&li, &c)["lifecycle"]["status"], "changes-requested");
    li.ok(&["set", &c, "clauses=第一条 供货范围\n第二条 付款方式：货到15日内付款\n第三条 质量标准"]);
    li.ok(&["contract", "resolve", &c, "--comment", "1", "--note", "已改为15日"]);
    li.ok(&["contract", "submit", &c]);
    li.sync();

    lv.sync();
    // Legal sees what the revision changed.
    let diff = lv.ok(&["contract", "diff", &c]);
    assert!(
        diff.contains("- 第二条 付款方式：货到30日内付款") && diff.contains("+ 第二条 付款方式：货到15日内付款"),
        "{diff}"
    );
    assert!(diff.contains("第一条 供货范围") && !diff.contains("- 第一条") && !diff.contains("+ 第一条"), "{diff}");
    lv.ok(&["contract", "approve", &c]);
    lv.sync();
    li.sync();
    assert_eq!(contract(&li, &c)["lifecycle"]["status"], "approved");
    let scan = b"%PDF-1.7 signed by both parties".to_vec();
    li.ok(&["contract", "scan", &c, "--file", &write(dir.path(), "signed.pdf", &scan), "--signed"]);
    li.ok(&["contract", "sign", &c]);
    li.sync();
    let signed = contract(&li, &c);
    assert_eq!(signed["lifecycle"]["status"], "signed", "{signed:#}");
    assert_eq!(signed["locked"], true, "{signed:#}");

    // The order proceeds.
    li.sync();
    assert_ne!(order_status(&li, &order), "awaiting-contract", "{:#}", li.order(&order));

    // Copies reach finance and logistics, once (more syncs change nothing).
    for d in [&li, &qian, &sun] {
        d.sync();
    }
    let cid = uuid::Uuid::parse_str(&c).unwrap();
    for department in ["finance", "logistics"] {
        let n: i64 = server
            .db()
            .query_row(
                "SELECT COUNT(*) FROM notifications WHERE order_id = ?1 AND department = ?2",
                rusqlite::params![cid.as_bytes().as_slice(), department],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 1, "{department}: one copy");
    }
    let told = server.admin_ok(&["notifications", "--department", "finance"]);
    assert!(told.contains("已签署"), "{told}");

    // Legal's device had not heard of the signature: its offline edit is refused by the
    // server and lands in its inbox.
    // (lv synced before signing; edit now without syncing.)
    lv.ok(&["set", &c, "payment_terms=货到60日内付款"]);
    lv.sync();
    let inbox = lv.inbox();
    assert!(inbox.as_array().unwrap().iter().any(|i| i.to_string().contains(&c[..8])), "{inbox:#}");
    assert!(!contract(&lv, &c)["payment_terms"].as_str().unwrap_or("").contains("60"));

    // A raw client of the author (li) editing the signed content is refused too.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let (mut raw, _) = RawClient::caught_up(&server, "li").await;
        let id = DocId(uuid::Uuid::parse_str(&c).unwrap());
        let mut doc = LocalDoc::from_server(&server, id, &raw.actor).expect("held");
        automerge::transaction::Transactable::put(&mut doc.doc, automerge::ROOT, "delivery_place", "别处").unwrap();
        doc.doc.commit();
        match raw.push(vec![doc.chunk()]).await {
            ServerMsg::Refused { refusals } => assert!(!refusals.is_empty()),
            other => panic!("an edit after signing was not refused: {other:?}"),
        }
    });
    let after = contract(&li, &c);
    assert_eq!(after["locked"], true);
    // Changes go through an amendment that references it; the signed one stays as signed.
    let amendment = li.ok(&["contract", "amend", &c, "--title", "补充协议：交货地点"]);
    li.ok(&["set", &amendment, "delivery_place=遵义仓库"]);
    li.ok(&["contract", "submit", &amendment]);
    li.sync();
    let a = contract(&li, &amendment);
    assert_eq!((a["amends"].as_str(), a["contract_type"].as_str()), (Some(c.as_str()), Some("amendment")), "{a:#}");
    assert_eq!(a["lifecycle"]["status"], "submitted", "{a:#}");
    assert_eq!(contract(&li, &c)["locked"], true);
    assert!(!li.fail(&["contract", "amend", &amendment, "--title", "x"]).is_empty(), "only a signed contract");

    // Archived by legal; the sales department's inventory lists it with its scan.
    lv.sync();
    lv.ok(&["contract", "step", &c, "--kind", "archived"]);
    let inv = lv.ok(&["contract", "inventory-start", "--period", "2026-Q4"]);
    let rows = lv.json(&["contract", "inventory", &inv]);
    let row = rows.as_array().unwrap().iter().find(|r| r["contract"] == c.as_str()).cloned().expect("listed");
    assert_eq!(
        (row["scan_on_file"].as_bool(), row["flagged"].as_bool()),
        (Some(true), Some(true)),
        "not checked yet: {row:#}"
    );
    lv.ok(&["contract", "inventory-check", &inv, "--contract", &c, "--scan", "present"]);
    let rows = lv.json(&["contract", "inventory", &inv]);
    let row = rows.as_array().unwrap().iter().find(|r| r["contract"] == c.as_str()).cloned().expect("listed");
    assert_eq!(row["flagged"], false, "{row:#}");
    assert_eq!(row["checked"][1], "lv", "who checked it: {row:#}");
    lv.sync();
    li.sync();
    assert_eq!(contract(&li, &c)["lifecycle"]["status"], "archived");
}

#[test]
fn a_key_accounts_order_needs_a_contract_unless_an_executive_waives_it() {
    let server = company(&[]);
    let policy = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/policy.csv");
    server.admin_ok(&["policy", "import", policy.to_str().unwrap()]);
    let li = Device::logged_in(&server, "li");
    let zhang = Device::logged_in(&server, "zhang");
    let zhao = Device::logged_in(&server, "zhao");
    zhao.sync();
    zhao.ok(&["new", "approval-policy", "contract_key_accounts=true"]);
    zhao.sync();
    li.sync();
    let customer = li.add_customer("遵义国宾馆", &["--channel", "restaurant"]);
    li.sync();
    zhang.sync();
    zhang.ok(&["set", &customer, "key_account=true"]);
    zhang.sync();
    li.sync();

    // A small order, but of a key account: it waits for a contract — offline already.
    let order = li.ok(&["order", "new", "--customer", &customer]);
    li.ok(&["order", "add-line", &order, "--sku", "SC-52-500", "--qty", "1", "--unit-price", "53900"]);
    li.ok(&["order", "submit", &order]);
    assert_eq!(li.order(&order)["contract"], "needed", "{:#}", li.order(&order));
    li.sync();
    assert_eq!(order_status(&li, &order), "awaiting-contract", "{:#}", li.order(&order));
    // The rep cannot waive it; the executive can.
    assert!(!li.fail(&["order", "waive-contract", &order]).is_empty());
    zhao.sync();
    zhao.ok(&["order", "waive-contract", &order, "--note", "老客户，框架协议在档"]);
    zhao.sync();
    li.sync();
    assert_eq!(order_status(&li, &order), "confirmed", "{:#}", li.order(&order));
}

#[test]
fn concurrent_offline_clause_edits_by_the_rep_and_legal_merge() {
    let server = company(&[]);
    let policy = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/policy.csv");
    server.admin_ok(&["policy", "import", policy.to_str().unwrap()]);
    let li = Device::logged_in(&server, "li");
    let lv = Device::logged_in(&server, "lv");
    li.sync();
    let customer = li.add_customer("赤水河酒业", &["--channel", "restaurant"]);
    let order = li.ok(&["order", "new", "--customer", &customer]);
    li.ok(&["order", "add-line", &order, "--sku", "SC-52-500", "--qty", "2", "--unit-price", "53900"]);
    let c = li.ok(&["contract", "draft", "--order", &order, "--title", "赤水河酒业供货合同"]);
    li.ok(&["set", &c, "clauses=第一条 供货范围：甲方供应白酒。\n第二条 付款：货到付款。\n第三条 质量：国标。"]);
    li.ok(&["contract", "submit", &c]);
    li.sync();
    lv.sync();
    assert_eq!(contract(&lv, &c)["clauses"], contract(&li, &c)["clauses"]);

    // Both offline: the rep rewrites the first clause, legal the third.
    li.ok(&[
        "set",
        &c,
        "clauses=第一条 供货范围：甲方供应52度白酒500毫升装。\n第二条 付款：货到付款。\n第三条 质量：国标。",
    ]);
    lv.ok(&[
        "set",
        &c,
        "clauses=第一条 供货范围：甲方供应白酒。\n第二条 付款：货到付款。\n第三条 质量：符合GB/T 10781.1。",
    ]);
    li.sync();
    lv.sync();
    li.sync();
    let want = "第一条 供货范围：甲方供应52度白酒500毫升装。\n第二条 付款：货到付款。\n第三条 质量：符合GB/T 10781.1。";
    for d in [&li, &lv] {
        assert_eq!(contract(d, &c)["clauses"], want, "[{}] both edits are kept", d.name);
    }
}

#[test]
fn a_large_request_needs_the_manager_then_the_executive_and_its_claim_counts_against_it() {
    let server = company(&[]);
    let dir = TempDir::new("request");
    let li = Device::logged_in(&server, "li");
    let zhang = Device::logged_in(&server, "zhang");
    let zhao = Device::logged_in(&server, "zhao");
    let budget = approved_budget(&zhang, &zhao);
    li.sync();

    // 4800 yuan of entertainment: under the executive's 5000-yuan level, the manager alone.
    let small = li.ok(&[
        "expense",
        "request",
        "--budget",
        &budget,
        "--item",
        "entertainment",
        "--amount",
        "4800",
        "--purpose",
        "经销商答谢宴",
        "--date",
        "2026-11-20",
    ]);
    // 5200 yuan (in December): above it, the manager and then the executive.
    let large = li.ok(&[
        "expense",
        "request",
        "--budget",
        &budget,
        "--item",
        "entertainment",
        "--amount",
        "5200",
        "--purpose",
        "品鉴会",
        "--date",
        "2026-12-05",
    ]);
    for r in [&small, &large] {
        li.ok(&["expense", "submit", r]);
    }
    li.sync();
    zhang.sync();
    for r in [&small, &large] {
        zhang.ok(&["expense", "approve", r]);
    }
    zhang.sync();
    li.sync();
    assert_eq!(expense(&li, &small)["lifecycle"]["status"], "approved");
    let waiting = expense(&li, &large);
    assert_eq!(waiting["lifecycle"]["status"], "submitted", "{waiting:#}");
    assert_eq!(waiting["lifecycle"]["missing"], serde_json::json!(["executive"]), "{waiting:#}");
    zhao.sync();
    zhao.ok(&["expense", "approve", &large]);
    zhao.sync();
    li.sync();
    assert_eq!(expense(&li, &large)["lifecycle"]["status"], "approved");

    // The claim after the dinner, linked to its approved request (which it replaces in
    // the count): within November's 5000 yuan.
    let claim = li.ok(&[
        "expense",
        "claim",
        "--budget",
        &budget,
        "--item",
        "entertainment",
        "--purpose",
        "经销商答谢宴",
        "--date",
        "2026-11-20",
        "--request",
        &small,
    ]);
    li.ok(&[
        "expense",
        "receipt",
        &claim,
        "--file",
        &write(dir.path(), "dinner.jpg", &jpeg(20_000, 9)),
        "--amount",
        "4700",
    ]);
    li.ok(&["expense", "submit", &claim]);
    li.sync();
    assert_eq!(verdict(&li, &claim), "within_budget", "{:#}", expense(&li, &claim));
    // A claim naming a request that is not approved is invalid.
    let pending = li.ok(&[
        "expense",
        "request",
        "--budget",
        &budget,
        "--item",
        "entertainment",
        "--amount",
        "100",
        "--purpose",
        "茶叶",
        "--date",
        "2026-11-22",
    ]);
    let bad = li.ok(&[
        "expense",
        "claim",
        "--budget",
        &budget,
        "--item",
        "entertainment",
        "--purpose",
        "茶叶",
        "--date",
        "2026-11-22",
        "--request",
        &pending,
    ]);
    li.ok(&["expense", "receipt", &bad, "--file", &write(dir.path(), "tea.jpg", &jpeg(20_000, 10)), "--amount", "100"]);
    li.ok(&["expense", "submit", &bad]);
    li.sync();
    let v = expense(&li, &bad);
    assert_eq!(v["verdict"]["verdict"], "invalid", "{v:#}");
    assert!(v["verdict"]["reasons"].as_array().unwrap().iter().any(|r| r == "request-not-approved"), "{v:#}");
}

fn request(d: &Device, budget: &str, item: &str, yuan: &str, purpose: &str, date: &str) -> String {
    d.ok(&[
        "expense",
        "request",
        "--budget",
        budget,
        "--item",
        item,
        "--amount",
        yuan,
        "--purpose",
        purpose,
        "--date",
        date,
    ])
}

/// A raw client's approval of expense request `id` as `user` in `role`, bound to the
/// content as the server holds it.
fn raw_approval(server: &TestServer, raw: &RawClient, id: &str, user: &str, role: &str) -> protocol::wire::DocChunk {
    raw_step(server, raw, id, protocol::DocKind::ExpenseRequest, "approved", user, Some(role))
}

/// A change appending `event` by `user` to expense document `id` as the server holds it,
/// for the content it has now — what a hostile client writes without asking its core.
fn raw_step(
    server: &TestServer,
    raw: &RawClient,
    id: &str,
    kind: protocol::DocKind,
    event: &str,
    user: &str,
    role: Option<&str>,
) -> protocol::wire::DocChunk {
    use protocol::schema::expense::{self, ExpenseEvent};
    let id = DocId(uuid::Uuid::parse_str(id).unwrap());
    let mut doc = LocalDoc::from_server(server, id, &raw.actor).expect("the server holds the document");
    let x = expense::read_expense(&doc.doc, id, kind).expect("an expense document");
    let e = ExpenseEvent {
        kind: event.into(),
        at: std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64,
        by: user.into(),
        role: role.map(Into::into),
        hash: Some(x.content_hash()),
        ..Default::default()
    };
    protocol::schema::record::push_log_entry(&mut doc.doc, "events", &expense::entry_of(&e).values).unwrap();
    doc.doc.commit();
    doc.chunk()
}

#[test]
fn an_expense_request_over_what_is_left_is_approved_only_after_its_supplement() {
    let server = company(&[]);
    let li = Device::logged_in(&server, "li");
    let zhang = Device::logged_in(&server, "zhang");
    let zhao = Device::logged_in(&server, "zhao");
    let budget = approved_budget(&zhang, &zhao);
    li.sync();

    // Two trips in November, 700 and 600 yuan, against 1000 yuan of travel: each fits
    // alone, not both. The device says so before anything is submitted.
    let first = request(&li, &budget, "travel", "700", "贵阳经销商大会", "2026-11-03");
    let second = request(&li, &budget, "travel", "600", "遵义市场走访", "2026-11-18");
    let preview = expense(&li, &second);
    assert_eq!(
        (preview["remaining_fen"].clone(), preview["over_budget"].clone()),
        (100_000.into(), false.into()),
        "{preview:#}"
    );
    for r in [&first, &second] {
        li.ok(&["expense", "submit", r]);
    }
    li.sync();
    zhang.sync();
    zhao.sync();

    // The manager approves the second offline, on a view where 1000 yuan are left; the
    // executive approves the first and syncs before.
    zhang.ok(&["expense", "approve", &second]);
    zhao.ok(&["expense", "approve", &first]);
    zhao.sync();
    // The server refuses the stale approval: it lands in the manager's inbox.
    zhang.sync();
    let inbox = zhang.inbox();
    assert!(inbox.to_string().contains("needs-supplement"), "{inbox:#}");
    li.sync();
    assert_eq!(expense(&li, &first)["lifecycle"]["status"], "approved");
    let waiting = expense(&li, &second);
    assert_eq!(waiting["lifecycle"]["status"], "submitted", "{waiting:#}");
    assert_eq!(
        (waiting["remaining_fen"].clone(), waiting["over_budget"].clone()),
        (30_000.into(), true.into()),
        "{waiting:#}"
    );
    assert_eq!(waiting["excess_fen"], 30_000, "{waiting:#}");

    // Synced, the manager's device refuses it before writing anything.
    let err = zhang.fail(&["expense", "approve", &second]);
    assert!(err.contains("supplement") || err.contains("追加"), "{err}");

    // A raw client of the manager writes the approval anyway: refused, nothing stored;
    // beside it an honest raw approval of a request within budget is stored.
    let dinner = request(&li, &budget, "entertainment", "300", "客户晚餐", "2026-11-05");
    li.ok(&["expense", "submit", &dinner]);
    li.sync();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let (mut raw, _) = RawClient::caught_up(&server, "zhang").await;
        let before = server.counts();
        match raw.push(vec![raw_approval(&server, &raw, &second, "zhang", "manager")]).await {
            ServerMsg::Refused { refusals } => {
                assert_eq!(refusals.len(), 1, "{refusals:?}");
                let r = &refusals[0];
                assert_eq!(
                    (r.code, r.rule.as_str(), r.path.as_str()),
                    (ErrorCode::Forbidden, "needs-supplement", "events")
                );
                assert!(r.message.contains("300.00"), "{}", r.message);
            }
            other => panic!("an over-budget approval was not refused: {other:?}"),
        }
        assert_eq!(server.counts(), before, "nothing of the refused approval is stored");
        match raw.push(vec![raw_approval(&server, &raw, &dinner, "zhang", "manager")]).await {
            ServerMsg::Ack { docs } => assert!(docs.iter().all(|a| a.seq > 0), "{docs:?}"),
            other => panic!("the honest control was not stored: {other:?}"),
        }
        assert!(server.counts().changes > before.changes);
    });
    li.sync();
    assert_eq!(expense(&li, &dinner)["lifecycle"]["status"], "approved");
    assert_eq!(expense(&li, &second)["lifecycle"]["status"], "submitted");

    // The supplementary request of 300 yuan, for that request; the manager may not approve
    // it, the executive does.
    let sup = li.ok(&[
        "expense",
        "supplement",
        "--budget",
        &budget,
        "--item",
        "travel",
        "--month",
        "11",
        "--amount",
        "300",
        "--reason",
        "大会期间房价上涨",
        "--request",
        &second,
    ]);
    li.ok(&["expense", "submit", &sup]);
    li.sync();
    zhang.sync();
    assert!(!zhang.run(&["expense", "approve", &sup]).status.success(), "only the executive approves a supplement");
    zhao.sync();
    zhao.ok(&["expense", "approve", &sup]);
    zhao.sync();

    // Now the request fits and the manager's approval goes through.
    zhang.sync();
    let now = expense(&zhang, &second);
    assert_eq!((now["remaining_fen"].clone(), now["over_budget"].clone()), (60_000.into(), false.into()), "{now:#}");
    zhang.ok(&["expense", "approve", &second]);
    zhang.sync();
    li.sync();
    assert_eq!(expense(&li, &second)["lifecycle"]["status"], "approved");
    let b = li.json(&["budget", "show", &budget]);
    let travel = b["items"].as_array().unwrap().iter().find(|c| c["item"] == "travel").cloned().unwrap();
    assert_eq!(
        (travel["budget_fen"].clone(), travel["supplement_fen"].clone(), travel["committed_fen"].clone()),
        (100_000.into(), 30_000.into(), 130_000.into()),
        "{b:#}"
    );
}

#[test]
fn clause_templates_are_legals_and_a_contracts_fulfilment_follows_its_order() {
    let server = company(&[]);
    let policy = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/policy.csv");
    server.admin_ok(&["policy", "import", policy.to_str().unwrap()]);
    let li = Device::logged_in(&server, "li");
    let lv = Device::logged_in(&server, "lv");
    let qian = Device::logged_in(&server, "qian");
    let sun = Device::logged_in(&server, "sun");

    // Legal writes the standard clauses; a rep may not, on the device nor over the wire.
    let body = "第一条 供货范围：以订单所列产品为准。\n第二条 付款：货到30日内付款。\n第三条 质量：符合GB/T 10781.1。";
    lv.sync();
    let template = lv.ok(&["new", "clause-template", "name=标准供货条款", &format!("body={body}")]);
    lv.sync();
    let err = li.fail(&["new", "clause-template", "name=自拟条款", "body=第一条 随便写"]);
    assert!(!err.is_empty());
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let (mut raw, _) = RawClient::caught_up(&server, "li").await;
        let before = server.counts();
        let mut forged = LocalDoc::new_record(
            &raw.actor,
            protocol::DocKind::ClauseTemplate,
            &[("name", "自拟"), ("body", "x")],
            "li",
        );
        match raw.push(vec![forged.chunk()]).await {
            ServerMsg::Refused { refusals } => assert_eq!(refusals[0].code, ErrorCode::Forbidden, "{refusals:?}"),
            other => panic!("a rep's clause template was not refused: {other:?}"),
        }
        assert_eq!(server.counts(), before);
    });

    // The rep drafts the contract of an order from it.
    li.sync();
    let customer = li.add_customer("赤水河酒楼", &["--channel", "restaurant"]);
    let order = li.ok(&["order", "new", "--customer", &customer]);
    li.ok(&["order", "add-line", &order, "--sku", "SC-52-500", "--qty", "6", "--unit-price", "53900"]);
    li.ok(&["order", "submit", &order]);
    let c = li.ok(&["contract", "draft", "--order", &order, "--title", "赤水河酒楼供货合同", "--template", &template]);
    let drafted = contract(&li, &c);
    assert_eq!(drafted["clauses"], body, "{drafted:#}");
    assert_eq!(drafted["fulfilment"], "unfulfilled", "{drafted:#}");
    li.sync();
    assert_eq!(order_status(&li, &order), "confirmed", "{:#}", li.order(&order));
    assert!(li.ok(&["contract", "show", &c]).contains("履行状态: 未履行"));

    // Shipped: partly fulfilled; delivered: fulfilled — on the rep's device, as synced.
    qian.sync();
    qian.ok(&["order", "pay-confirm", &order]);
    qian.sync();
    sun.sync();
    sun.ok(&["order", "ship", &order, "--carrier", "顺丰速运", "--tracking", "SF1"]);
    sun.sync();
    li.sync();
    assert_eq!(contract(&li, &c)["fulfilment"], "partial");
    assert!(li.ok(&["contract", "show", &c]).contains("履行状态: 部分履行"));
    sun.ok(&["order", "deliver", &order, "--feedback", "客户已签收"]);
    sun.sync();
    li.sync();
    assert_eq!(contract(&li, &c)["fulfilment"], "fulfilled");
    let listed = li.ok(&["contract", "list"]);
    assert!(listed.contains("已履行"), "{listed}");
}
