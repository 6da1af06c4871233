//! TLS end to end: `jiuloop-server serve --tls-cert/--tls-key` over real sockets, with
//! certificates made at test time (a company CA and the server's certificates it signs).
//! CLI devices log in with `--ca`, push and sync over wss; without the CA, for another
//! host name, with an expired certificate or against a plain-http server they refuse with
//! one clear line and change nothing; SIGHUP serves a new certificate to new connections
//! and keeps the old one when the new file is bad; HTTPS_PROXY carries login and sync;
//! headless Chromium runs the web app over https and wss, service worker included.

use jiuloop_tests::tls::{fingerprint, https_get, served_fingerprint};
use jiuloop_tests::{Device, TempDir, TestServer};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, PublicKeyData, SerialNumber};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// A company CA in a directory: `ca.pem`, and server certificates it signs.
struct TestCa {
    dir: TempDir,
    issuer: Issuer<'static, KeyPair>,
    pem: String,
}

/// A server certificate and key written to files.
struct ServerCert {
    cert: PathBuf,
    key: PathBuf,
    fingerprint: String,
    /// The key's SubjectPublicKeyInfo (DER), for Chromium's pin.
    spki: Vec<u8>,
}

impl TestCa {
    fn new() -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, "九酒 test company CA");
        let key = KeyPair::generate().expect("CA key");
        let cert = params.self_signed(&key).expect("CA certificate");
        let dir = TempDir::new("tls");
        let pem = cert.pem();
        std::fs::write(dir.path().join("ca.pem"), &pem).expect("write ca.pem");
        TestCa { dir, issuer: Issuer::new(params, key), pem }
    }

    fn ca_file(&self) -> String {
        self.dir.path().join("ca.pem").display().to_string()
    }

    /// A certificate for `names` (DNS names or IP addresses) with `serial`, written as
    /// `NAME.pem` and `NAME.key`.
    fn issue(&self, file: &str, names: &[&str], serial: u64) -> ServerCert {
        self.issue_with(file, names, serial, |_| {})
    }

    /// [`TestCa::issue`], with `adjust` applied to the parameters before signing (dates).
    fn issue_with(
        &self,
        file: &str,
        names: &[&str],
        serial: u64,
        adjust: impl FnOnce(&mut CertificateParams),
    ) -> ServerCert {
        let mut params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).expect("server params");
        params.serial_number = Some(SerialNumber::from(serial));
        params.distinguished_name.push(DnType::CommonName, names[0]);
        adjust(&mut params);
        let key = KeyPair::generate().expect("server key");
        let cert = params.signed_by(&key, &self.issuer).expect("server certificate");
        let (cert_path, key_path) =
            (self.dir.path().join(format!("{file}.pem")), self.dir.path().join(format!("{file}.key")));
        std::fs::write(&cert_path, cert.pem()).expect("write cert");
        std::fs::write(&key_path, key.serialize_pem()).expect("write key");
        ServerCert {
            cert: cert_path,
            key: key_path,
            fingerprint: fingerprint(cert.der()),
            spki: key.subject_public_key_info(),
        }
    }
}

/// A TLS server with `cert`, and rep users.
fn tls_server(cert: &ServerCert, users: &[&str]) -> TestServer {
    let (c, k) = (cert.cert.display().to_string(), cert.key.display().to_string());
    let server = TestServer::started_with(&["--tls-cert", &c, "--tls-key", &k], users);
    assert!(server.url().starts_with("https://"), "{}", server.url());
    server
}

fn login_with_ca(d: &Device, server: &TestServer, user: &str, ca: &TestCa) {
    d.ok(&["login", "--server", &server.url(), "--user", user, "--ca", &ca.ca_file()]);
}

/// The profile's settings (meta rows), to check that a refused login changed none.
fn meta(d: &Device) -> Vec<(String, String)> {
    let db = d.local_db();
    let mut stmt = db.prepare("SELECT key, value FROM meta ORDER BY key").expect("meta");
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).expect("meta rows").map(|r| r.expect("meta row")).collect()
}

fn customer_names(d: &Device) -> Vec<String> {
    let list = d.customers();
    let mut names: Vec<String> =
        list.as_array().expect("list").iter().map(|c| c["name"].as_str().unwrap_or_default().to_string()).collect();
    names.sort();
    names
}

#[test]
fn two_cli_devices_log_in_push_and_sync_over_wss_with_the_company_ca() {
    let ca = TestCa::new();
    let cert = ca.issue("server", &["localhost", "127.0.0.1"], 1);
    let server = tls_server(&cert, &["wang", "li"]);

    // /health over https, verified against the company CA.
    let (status, body) = https_get(server.addr(), "localhost", &ca.pem, "/health").expect("GET /health over TLS");
    assert!(status.contains("200"), "{status} {body}");
    assert_eq!(served_fingerprint(server.addr(), "127.0.0.1", &ca.pem).expect("handshake"), cert.fingerprint);

    let wang = Device::new("wang");
    let li = Device::new("li");
    login_with_ca(&wang, &server, "wang", &ca);
    login_with_ca(&li, &server, "li", &ca);
    let stored: Vec<_> = meta(&wang).into_iter().filter(|(k, _)| k == "server_ca_pem").collect();
    assert_eq!(stored, vec![("server_ca_pem".to_string(), ca.pem.clone())], "the CA is remembered in the profile");

    // Push from one device over wss, receive on the other; later commands need no --ca.
    wang.add_customer("遵义名酒行", &[]);
    let pushed = wang.sync();
    assert!(pushed.pushed_docs >= 1, "{pushed:?}");
    li.sync();
    assert_eq!(customer_names(&li), vec!["遵义名酒行".to_string()]);
    li.add_customer("仁怀酒庄", &[]);
    li.sync();
    wang.sync();
    assert_eq!(customer_names(&wang), customer_names(&li));
    assert_eq!(wang.pending_docs(), 0);

    // Logout over https too (the server forgets the token: a sync is refused).
    wang.ok(&["logout"]);
    assert!(!wang.run(&["sync"]).status.success());
    assert!(server.log().contains(&cert.fingerprint), "the server logs the fingerprint it serves");
}

#[test]
fn without_the_ca_another_host_or_a_plain_server_the_cli_refuses_in_one_line_and_changes_nothing() {
    let ca = TestCa::new();
    let cert = ca.issue("server", &["localhost", "127.0.0.1"], 1);
    let server = tls_server(&cert, &["wang"]);

    // Unknown CA: one line in the user's language; the profile is as it was.
    let d = Device::new("wang");
    d.ok(&["status"]);
    let before = meta(&d);
    let zh = d.fail(&["login", "--server", &server.url(), "--user", "wang"]);
    assert!(zh.starts_with("错误") && zh.contains("本机信任的机构") && zh.contains("--ca"), "{zh}");
    let en = d.fail(&["--lang", "en", "login", "--server", &server.url(), "--user", "wang"]);
    assert!(en.contains("not signed by a CA this device trusts"), "{en}");
    assert_eq!(meta(&d), before, "a refused login changes nothing in the profile");
    assert_eq!(d.status()["server"], serde_json::Value::Null);

    // A CA file that holds no certificate is refused before anything is sent.
    let junk = ca.dir.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate").unwrap();
    let bad = d.fail(&["login", "--server", &server.url(), "--user", "wang", "--ca", &junk.display().to_string()]);
    assert!(bad.contains("junk.pem"), "{bad}");
    assert_eq!(meta(&d), before);

    // A certificate for another host name, though signed by the trusted CA.
    let other = ca.issue("other", &["sync.example.com"], 2);
    let wrong = tls_server(&other, &["wang"]);
    let e = d.fail(&["login", "--server", &wrong.url(), "--user", "wang", "--ca", &ca.ca_file()]);
    assert!(e.contains("主机名与地址中的不符"), "{e}");
    assert_eq!(meta(&d), before);

    // A certificate of the trusted CA, for this host, that expired years ago.
    let old = ca.issue_with("expired", &["localhost", "127.0.0.1"], 3, |p| {
        p.not_before = rcgen::date_time_ymd(2020, 1, 1);
        p.not_after = rcgen::date_time_ymd(2021, 1, 1);
    });
    let expired = tls_server(&old, &["wang"]);
    let e = d.fail(&["login", "--server", &expired.url(), "--user", "wang", "--ca", &ca.ca_file()]);
    assert!(e.contains("服务器证书已过期或尚未生效"), "{e}");
    let e = d.fail(&["--lang", "en", "login", "--server", &expired.url(), "--user", "wang", "--ca", &ca.ca_file()]);
    assert!(e.contains("has expired or is not valid yet"), "{e}");
    assert_eq!(meta(&d), before);

    // A plain-http server behind an https:// URL.
    let plain = TestServer::started(&["wang"]);
    let https_to_plain = plain.url().replacen("http://", "https://", 1);
    let e = d.fail(&["--lang", "en", "login", "--server", &https_to_plain, "--user", "wang"]);
    assert!(e.contains("does not speak TLS"), "{e}");
    assert_eq!(meta(&d), before);

    // The honest controls: with the CA the same profile logs in and syncs; plain http works.
    login_with_ca(&d, &server, "wang", &ca);
    d.sync();
    let p = Device::logged_in(&plain, "wang");
    p.sync();
}

/// Send SIGHUP to the server process.
fn hangup(server: &TestServer) {
    let pid = server.pid().expect("running").to_string();
    let ok = std::process::Command::new("kill").args(["-HUP", &pid]).status().expect("kill").success();
    assert!(ok, "kill -HUP {pid}");
}

/// Wait (bounded) until `cond` holds; what it last saw otherwise.
fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !cond() {
        assert!(Instant::now() < deadline, "{what}: not within 30 s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn sighup_serves_the_new_certificate_to_new_connections_and_a_bad_file_keeps_the_old() {
    let ca = TestCa::new();
    let first = ca.issue("server", &["localhost", "127.0.0.1"], 1);
    let server = tls_server(&first, &["wang", "li"]);
    let wang = Device::new("wang");
    let li = Device::new("li");
    login_with_ca(&wang, &server, "wang", &ca);
    login_with_ca(&li, &server, "li", &ca);
    wang.add_customer("第一家", &[]);
    wang.sync();
    li.sync();
    let served = || served_fingerprint(server.addr(), "localhost", &ca.pem).expect("handshake");
    assert_eq!(served(), first.fingerprint);

    // The renewed certificate (new key, new serial) written over the same files.
    let renewed = ca.issue("renewed", &["localhost", "127.0.0.1"], 2);
    std::fs::copy(&renewed.cert, &first.cert).unwrap();
    std::fs::copy(&renewed.key, &first.key).unwrap();
    assert_ne!(renewed.fingerprint, first.fingerprint);
    hangup(&server);
    wait_for("the renewed certificate served", || served() == renewed.fingerprint);
    assert!(
        server.log().contains(&format!("sha256={}", renewed.fingerprint))
            || server.log().contains(&renewed.fingerprint)
    );

    // Devices logged in before keep working (their next connections see the new one).
    li.add_customer("第二家", &[]);
    li.sync();
    wang.sync();
    assert_eq!(customer_names(&wang), vec!["第一家".to_string(), "第二家".to_string()]);

    // A bad file on SIGHUP: the renewed certificate stays and the log says why.
    std::fs::write(&first.cert, "-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n").unwrap();
    hangup(&server);
    wait_for("the refused reload logged", || server.log().contains("NOT reloaded"));
    assert_eq!(served(), renewed.fingerprint);
    wang.add_customer("第三家", &[]);
    wang.sync();
    li.sync();
    assert_eq!(customer_names(&li).len(), 3);

    // A key that does not go with the certificate is refused as well.
    std::fs::copy(&renewed.cert, &first.cert).unwrap();
    let stranger = ca.issue("stranger", &["localhost"], 3);
    std::fs::copy(&stranger.key, &first.key).unwrap();
    let refusals = server.log().matches("NOT reloaded").count();
    hangup(&server);
    wait_for("the mismatched key refused", || server.log().matches("NOT reloaded").count() > refusals);
    assert_eq!(served(), renewed.fingerprint);
}

#[test]
fn a_missing_or_bad_certificate_stops_the_start_with_one_clear_line() {
    let ca = TestCa::new();
    let cert = ca.issue("server", &["localhost"], 1);
    let data = TempDir::new("tls-data");
    let missing = ca.dir.path().join("missing.pem");
    let bad = ca.dir.path().join("bad.pem");
    std::fs::write(&bad, "hello").unwrap();
    for (certificate, expect) in [(&missing, "cannot read the TLS certificate"), (&bad, "holds no PEM certificate")] {
        let mut cmd = std::process::Command::new(&jiuloop_tests::bins().server);
        cmd.arg("--data").arg(data.path()).args(["serve", "--listen", "127.0.0.1:0", "--tls-cert"]);
        cmd.arg(certificate).arg("--tls-key").arg(&cert.key);
        let out = jiuloop_tests::process::run_with_timeout(cmd, Duration::from_secs(60), "serve with a bad cert");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        let lines: Vec<&str> = stderr.lines().filter(|l| l.contains("error")).collect();
        assert_eq!(lines.len(), 1, "{stderr}");
        assert!(lines[0].contains(expect) && lines[0].contains(&certificate.display().to_string()), "{stderr}");
    }
}

/// A forward proxy on loopback that answers `CONNECT host:port` with a tunnel, and counts
/// the tunnels it opened.
fn connect_proxy() -> (std::net::SocketAddr, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{BufRead, BufReader, Write};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind proxy");
    let addr = listener.local_addr().unwrap();
    let tunnels = std::sync::Arc::new(AtomicUsize::new(0));
    let count = tunnels.clone();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(mut client) = client else { continue };
            let count = count.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(client.try_clone().expect("clone"));
                let mut first = String::new();
                reader.read_line(&mut first).expect("request line");
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                }
                let target = first.split_whitespace().nth(1).unwrap_or_default().to_string();
                let Ok(upstream) = std::net::TcpStream::connect(&target) else {
                    let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n");
                    return;
                };
                count.fetch_add(1, Ordering::SeqCst);
                client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").expect("200");
                let (mut up_r, mut up_w) = (upstream.try_clone().unwrap(), upstream);
                let mut down_w = client;
                let to_server = std::thread::spawn(move || {
                    let _ = std::io::copy(&mut reader, &mut up_w);
                    let _ = up_w.shutdown(std::net::Shutdown::Write);
                });
                let _ = std::io::copy(&mut up_r, &mut down_w);
                let _ = down_w.shutdown(std::net::Shutdown::Write);
                let _ = to_server.join();
            });
        }
    });
    (addr, tunnels)
}

#[test]
fn login_and_sync_go_through_the_https_proxy_of_the_environment() {
    use std::sync::atomic::Ordering;
    let ca = TestCa::new();
    let cert = ca.issue("server", &["localhost", "127.0.0.1"], 1);
    let server = tls_server(&cert, &["wang"]);
    let (proxy, tunnels) = connect_proxy();
    let d = Device::new("wang");
    let run = |args: &[&str], no_proxy: Option<&str>| {
        let mut cmd = d.command(args);
        cmd.env("HTTPS_PROXY", format!("http://{proxy}")).env_remove("https_proxy").env_remove("ALL_PROXY");
        match no_proxy {
            Some(list) => cmd.env("NO_PROXY", list),
            None => cmd.env_remove("NO_PROXY").env_remove("no_proxy"),
        };
        let out = jiuloop_tests::process::run_with_timeout(cmd, Duration::from_secs(120), "jiuloop via proxy");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    run(&["login", "--server", &server.url(), "--user", "wang", "--ca", &ca.ca_file()], None);
    assert_eq!(tunnels.load(Ordering::SeqCst), 1, "the login went through the proxy");
    d.add_customer("毕节酒行", &[]);
    run(&["sync"], None);
    assert_eq!(tunnels.load(Ordering::SeqCst), 2, "the sync socket went through the proxy");
    // NO_PROXY naming the server's host: straight to the server.
    run(&["sync"], Some("localhost,127.0.0.1"));
    assert_eq!(tunnels.load(Ordering::SeqCst), 2);
    assert_eq!(d.pending_docs(), 0);
}

/// The web app over https in headless Chromium, which trusts the server's key by its pin
/// (`--ignore-certificate-errors-spki-list`: the certificate counts as valid, so the page
/// is a secure context and the service worker registers): log in, sync over wss, create a
/// customer a CLI device receives, reload offline from the service worker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_app_logs_in_and_syncs_over_https_and_wss_in_chromium() {
    use jiuloop_tests::PASSWORD;
    use jiuloop_tests::browser::{Browser, web_app};
    use jiuloop_tests::tls::spki_pin;
    const LONG: Duration = Duration::from_secs(60);
    let ca = TestCa::new();
    let cert = ca.issue("server", &["localhost", "127.0.0.1"], 1);
    let web = web_app().to_str().expect("utf-8 path").to_string();
    let (c, k) = (cert.cert.display().to_string(), cert.key.display().to_string());
    let mut server = TestServer::started_with(&["--web", &web, "--tls-cert", &c, "--tls-key", &k], &["li", "wang"]);
    let url = format!("https://localhost:{}/", server.addr().port());

    let browser =
        Browser::launch_with(&[format!("--ignore-certificate-errors-spki-list={}", spki_pin(&cert.spki))]).await;
    let page = browser.page("li", &url).await;
    page.wait_for("typeof window.jiuloopReady === 'number'", LONG).await;
    assert_eq!(page.eval("location.protocol").await, "https:");
    assert_eq!(page.eval("window.isSecureContext").await, true);
    page.wait_for("!!document.querySelector('#login-form')", LONG).await;
    page.fill("#login-user", "li").await;
    page.fill("#login-password", PASSWORD).await;
    page.click("#login-submit").await;
    page.wait_for("!!document.querySelector('#customer-results, #work')", LONG).await;
    let synced = "(() => { const s = JSON.parse(jiuloop.client.status()); return s.online && s.pending === 0 && !!s.last_sync; })()";
    page.wait_for(synced, LONG).await;

    // A customer made in the browser reaches a CLI device over wss.
    page.eval("location.hash = '#/customers/new'").await;
    page.wait_for("!!document.querySelector('#customer-form')", LONG).await;
    page.fill("#cf-name", "花溪酒庄").await;
    page.fill("#cf-phone", "0851-8888").await;
    page.fill("#cf-channel", "distributor").await;
    page.fill("#cf-class", "A").await;
    page.click("#customer-save").await;
    page.wait_for("location.hash.startsWith('#/customer/') && !!document.querySelector('#customer-name')", LONG).await;
    page.wait_for(synced, LONG).await;
    let wang = Device::new("wang");
    login_with_ca(&wang, &server, "wang", &ca);
    wang.sync();
    assert_eq!(customer_names(&wang), vec!["花溪酒庄".to_string()]);

    // The service worker controls the page over https and opens it with the server gone.
    page.wait_for("!!navigator.serviceWorker.controller", LONG).await;
    server.kill9();
    page.reload().await;
    page.wait_for("typeof window.jiuloopReady === 'number'", LONG).await;
    page.wait_for("document.querySelector('#status').dataset.state === 'offline'", LONG).await;
}

/// `--log-format json`: every line the server logs is one JSON object; the TLS start is
/// one of them, with the fingerprint of the certificate served.
#[test]
fn json_logs_are_one_object_a_line_and_name_the_certificate_served() {
    let ca = TestCa::new();
    let cert = ca.issue("server", &["localhost", "127.0.0.1"], 1);
    let (c, k) = (cert.cert.display().to_string(), cert.key.display().to_string());
    let mut server = TestServer::started_with(&["--tls-cert", &c, "--tls-key", &k, "--log-format", "json"], &["wang"]);
    let d = Device::new("wang");
    login_with_ca(&d, &server, "wang", &ca);
    d.sync();
    server.stop();
    let log = server.log();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON log line ({e}): {l}")))
        .collect();
    let loaded = lines
        .iter()
        .find(|l| l["fields"]["message"] == "TLS certificate loaded")
        .unwrap_or_else(|| panic!("no 'TLS certificate loaded' line in {log}"));
    assert_eq!(loaded["fields"]["sha256"], cert.fingerprint.as_str());
    assert_eq!(loaded["level"], "INFO");
    assert!(loaded["timestamp"].is_string(), "{loaded}");
    assert!(lines.iter().any(|l| l["fields"]["message"] == "jiuloop-server stopped"), "{log}");
}
