//! Backup and restore for IT, over a real server process and real SQLite files: a backup
//! taken while the server serves, verified; a restore from it; devices that synced after the
//! backup send the restored server what it lacks, so nothing a device still holds is lost.

use jiuloop_tests::{Device, TempDir, TestServer};
use serde_json::Value;

fn names(d: &Device) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = d
        .customers()
        .as_array()
        .unwrap()
        .iter()
        .map(|c: &Value| (c["name"].as_str().unwrap().to_string(), c["phone"].as_str().unwrap_or("").to_string()))
        .collect();
    v.sort();
    v
}

#[test]
fn a_backup_taken_while_serving_restores_and_devices_resend_what_came_after() {
    let server = TestServer::started(&["li", "wang"]);
    let mut server = server;
    let li = Device::logged_in(&server, "li");
    let early = li.add_customer("备份前的客户", &[]);
    li.sync();

    let dir = TempDir::new("backup");
    let file = dir.path().join("jiuloop-backup.db");
    let said = server.admin_ok(&["backup", "--to", file.to_str().unwrap()]);
    assert!(said.contains("1 documents verified (heads equal)"), "{said}");
    assert!(server.admin_fail(&["backup", "--to", file.to_str().unwrap()]).contains("exists already"));
    assert!(server.admin_ok(&["verify-backup", file.to_str().unwrap()]).contains("1 documents load"));

    // After the backup: a new customer and an edit, acknowledged by the server.
    li.add_customer("备份后的客户", &[]);
    li.ok(&["customer", "set", &early, "phone", "13800000011"]);
    li.sync();

    server.kill9();
    assert!(server.admin_fail(&["restore", "--from", "/nonexistent/backup.db"]).contains("is not a file"));
    let said = server.admin_ok(&["restore", "--from", file.to_str().unwrap()]);
    assert!(said.contains("restored 1 documents") && said.contains("previous database is kept"), "{said}");
    server.start();

    // A device that never synced sees the backup's state…
    let wang = Device::logged_in(&server, "wang");
    wang.sync();
    assert_eq!(names(&wang), vec![("备份前的客户".to_string(), String::new())]);
    // …until li's device, ahead of the restored server, sends everything again.
    li.sync();
    wang.sync();
    let mut both =
        vec![("备份前的客户".to_string(), "13800000011".to_string()), ("备份后的客户".to_string(), String::new())];
    both.sort();
    assert_eq!(names(&wang), both);
    assert_eq!(names(&li), both);
    assert!(server.log().contains("a device is ahead of the database"), "the server says why");
}

#[test]
fn a_damaged_backup_is_refused_and_nothing_is_replaced() {
    let mut server = TestServer::started(&["li"]);
    let li = Device::logged_in(&server, "li");
    li.add_customer("不能丢的客户", &[]);
    li.sync();
    server.kill9();
    let dir = TempDir::new("backup");
    let file = dir.path().join("not-a-backup.db");
    std::fs::write(&file, b"this is not a SQLite file at all, just some bytes").unwrap();
    let err = server.admin_fail(&["restore", "--from", file.to_str().unwrap()]);
    assert!(err.contains("not-a-backup.db") || err.contains("file is not a database"), "{err}");
    assert!(server.admin_fail(&["verify-backup", file.to_str().unwrap()]).contains("error"));
    server.start();
    let fresh = Device::logged_in(&server, "li");
    fresh.sync();
    assert_eq!(names(&fresh), vec![("不能丢的客户".to_string(), String::new())]);
}

#[test]
fn another_programs_database_is_refused_at_start_and_left_untouched() {
    let dir = TempDir::new("foreign");
    let file = dir.path().join("jiuloop.db");
    {
        let c = rusqlite::Connection::open(&file).unwrap();
        c.execute_batch(
            "CREATE TABLE invoices (id INTEGER PRIMARY KEY, total INTEGER); INSERT INTO invoices VALUES (1, 100);",
        )
        .unwrap();
    }
    let before = std::fs::read(&file).unwrap();
    let mut cmd = std::process::Command::new(&jiuloop_tests::bins().server);
    cmd.arg("--data").arg(dir.path()).args(["serve", "--listen", "127.0.0.1:0"]).env_remove("JIULOOP_DATABASE_URL");
    let out =
        jiuloop_tests::process::run_with_timeout(cmd, std::time::Duration::from_secs(60), "serve on a foreign file");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not jiuloop's") && err.contains("left untouched"), "{err}");
    assert!(std::fs::read(&file).unwrap() == before, "not one byte changed");
    let tables: i64 = rusqlite::Connection::open(&file)
        .unwrap()
        .query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(tables, 1);
}

/// A raw client claiming a cursor past everything stored is told `cursor_ahead` and closed
/// (it learns nothing it may not read, and the server's sequence does not move); an honest
/// device beside it connects as always.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_raw_client_claiming_a_cursor_from_the_future_is_closed_and_the_honest_one_syncs() {
    let server = TestServer::started(&["li", "wang"]);
    let (mut honest, before) = jiuloop_tests::RawClient::caught_up(&server, "wang").await;
    let mut liar = jiuloop_tests::RawClient::login(&server, "li").await;
    liar.hello(u64::MAX / 2).await;
    assert_eq!(liar.expect_error_close().await, protocol::ErrorCode::CursorAhead);
    let mut doc = jiuloop_tests::LocalDoc::new_customer(&honest.actor, "诚实的客户");
    match honest.push(vec![doc.chunk()]).await {
        protocol::ServerMsg::Ack { docs } => assert_eq!(docs[0].seq, before.cursor + 1, "the sequence did not jump"),
        other => panic!("expected an ack, got {other:?}"),
    }
    let (_, again) = jiuloop_tests::RawClient::caught_up(&server, "li").await;
    assert_eq!(again.cursor, before.cursor + 1);
}
