//! The figure of issue 17 part 4: a sync of 1,000 documents through the fault proxy at
//! 20 kbit/s (300 ms latency each way, connections cut at random every 20–80 KB): how
//! long, how many bytes each way, how many resumes. Real server process, real CLI
//! processes. Prints; asserts nothing about time.
//!
//! `cargo run -p jiuloop-tests --bin slow_link_bench [-- DOCS [BITS_PER_SEC]]`

use jiuloop_tests::process::run_with_timeout;
use jiuloop_tests::{Device, FaultProxy, Faults, Link, TempDir, TestServer};
use std::time::{Duration, Instant};

fn main() {
    let mut args = std::env::args().skip(1);
    let docs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1_000);
    let bps: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let server = TestServer::started(&["li", "wang"]);
    let office = Device::logged_in(&server, "li");
    let dir = TempDir::new("csv");
    let csv = dir.path().join("customers.csv");
    let mut text = String::from("name,phone,channel,class,region\n");
    for i in 0..docs {
        text.push_str(&format!(
            "山区客户{i:04},139{i:08},distributor,{},遵义市红花岗区{}号\n",
            ["A", "B", "C"][i % 3],
            i
        ));
    }
    std::fs::write(&csv, text).unwrap();
    office.ok(&["customer", "import", csv.to_str().unwrap()]);
    office.sync();

    let proxy = FaultProxy::start(server.addr(), Faults::default(), 2026);
    let rep = Device::new("wang");
    rep.ok(&["login", "--server", &proxy.url(), "--user", "wang"]);
    let slow = Link::slow(bps, Duration::from_millis(300));
    proxy.set(Faults { up: slow, down: slow, cut_after_bytes: Some((20_000, 80_000)), ..Faults::default() });
    let (up0, down0, conns0) = (proxy.up_bytes(), proxy.down_bytes(), proxy.accepted());
    let started = Instant::now();
    let mut resumes = 0;
    loop {
        let cmd = rep.command(&["sync", "--json"]);
        let out = run_with_timeout(cmd, Duration::from_secs(3_600), "sync");
        if out.status.success() {
            break;
        }
        resumes += 1;
        eprintln!("attempt {resumes} ended: {}", String::from_utf8_lossy(&out.stderr).trim());
        assert!(resumes < 500, "no progress: {}", String::from_utf8_lossy(&out.stderr));
    }
    let took = started.elapsed();
    let held = rep.customers().as_array().map_or(0, Vec::len);
    assert_eq!(held, docs, "the rep holds every document");
    let (up, down) = (proxy.up_bytes() - up0, proxy.down_bytes() - down0);
    println!(
        "sync of {docs} documents through the {} kbit/s proxy (300 ms latency, cuts every 20–80 KB): \
         {:.1} s, {down} bytes down, {up} bytes up, {resumes} resumes ({} connections, {} cut)",
        bps / 1000,
        took.as_secs_f64(),
        proxy.accepted() - conns0,
        proxy.cuts()
    );
}
