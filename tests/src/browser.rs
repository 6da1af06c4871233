//! Real headless Chromium driven over the Chrome DevTools Protocol (a WebSocket speaking
//! JSON), for the browser client's tests: no WebDriver, no extra crates.
//!
//! - [`web_app`] builds the web app once per test process (`scripts/build-web.sh`) and
//!   returns its directory, for `serve --web DIR`;
//! - [`Browser::launch`] starts Chromium with a fresh profile directory (its IndexedDB and
//!   service worker cache survive page reloads and server restarts, like a phone's);
//! - [`Page`] is one tab: navigate, reload, evaluate JavaScript (awaiting promises),
//!   wait for a condition, take a screenshot.
//!
//! Missing Chromium or a failed build fails the test loudly: these tests never pass by
//! not running.

use crate::process::{describe, run_with_timeout};
use crate::tmp::TempDir;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

/// How long one DevTools command may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// The workspace's `target` directory.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").join("target"))
}

/// The built web app (`target/web`), built once per test process with the same script
/// as the README's run command. Set `JIULOOP_TEST_NO_BUILD=1` to use what is there.
pub fn web_app() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = target_dir().join("web");
        if std::env::var_os("JIULOOP_TEST_NO_BUILD").is_none() {
            let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root");
            let mut cmd = Command::new("bash");
            cmd.current_dir(workspace).arg("scripts/build-web.sh").arg(&dir);
            let what = describe(&cmd);
            let out = run_with_timeout(cmd, Duration::from_secs(1800), &what);
            assert!(
                out.status.success(),
                "building the web app failed ({what}):\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        for f in ["index.html", "app.js", "sw.js", "pkg/jiuloop_wasm.js", "pkg/jiuloop_wasm_bg.wasm"] {
            assert!(dir.join(f).is_file(), "the web app in {} lacks {f}: run scripts/build-web.sh", dir.display());
        }
        dir
    })
}

/// Where the run's screenshots go (`target/screenshots`), created on first use.
pub fn screenshot_dir() -> PathBuf {
    let dir = target_dir().join("screenshots");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
    dir
}

fn chromium_path() -> PathBuf {
    if let Some(p) = std::env::var_os("JIULOOP_CHROMIUM") {
        return PathBuf::from(p);
    }
    for p in ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"] {
        if Path::new(p).exists() {
            return PathBuf::from(p);
        }
    }
    panic!(
        "Chromium is not installed: the browser tests need it (apt-get install chromium chromium-driver; \
         .ci/run installs it), or set JIULOOP_CHROMIUM to a Chrome/Chromium binary"
    );
}

type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Value>>>>;

/// One DevTools connection (the browser endpoint; pages are flattened sessions on it).
struct Cdp {
    out: mpsc::UnboundedSender<String>,
    pending: Pending,
    next: AtomicU64,
    /// Console messages and uncaught exceptions, per session, for failure reports.
    logs: Arc<Mutex<HashMap<String, Vec<String>>>>,
}

impl Cdp {
    async fn call(&self, session: Option<&str>, method: &str, params: Value) -> Result<Value, String> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let mut msg = json!({ "id": id, "method": method, "params": params });
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        let (tx, rx) = oneshot::channel();
        self.pending.lock().unwrap().insert(id, tx);
        self.out.send(msg.to_string()).map_err(|_| "the DevTools connection is closed".to_string())?;
        let answer = tokio::time::timeout(CALL_TIMEOUT, rx)
            .await
            .map_err(|_| format!("{method} got no answer within {CALL_TIMEOUT:?}"))?
            .map_err(|_| "the DevTools connection closed".to_string())?;
        match answer.get("error") {
            Some(e) => Err(format!("{method}: {e}")),
            None => Ok(answer["result"].clone()),
        }
    }
}

pub struct Browser {
    child: Child,
    cdp: Arc<Cdp>,
    _profile: TempDir,
    stderr: Arc<Mutex<Vec<String>>>,
}

impl Browser {
    /// Start headless Chromium with an empty profile.
    pub async fn launch() -> Browser {
        Self::launch_with(&[]).await
    }

    /// [`Browser::launch`] with extra command-line switches (e.g. a certificate to trust).
    pub async fn launch_with(extra: &[String]) -> Browser {
        let chromium = chromium_path();
        let profile = TempDir::new("chromium");
        let mut cmd = Command::new(&chromium);
        cmd.args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-background-timer-throttling",
            "--disable-renderer-backgrounding",
            "--disable-backgrounding-occluded-windows",
            "--disable-features=Translate,MediaRouter",
            "--password-store=basic",
            "--remote-debugging-port=0",
            "--window-size=1280,900",
        ])
        .args(extra)
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("about:blank")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
        {
            use std::os::unix::process::CommandExt;
            // Its own process group, so that stopping it stops its renderers too.
            cmd.process_group(0);
        }
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start {}: {e}", chromium.display()));
        let stderr = child.stderr.take().expect("piped stderr");
        let lines: Arc<Mutex<Vec<String>>> = Arc::default();
        let (tx, rx) = std::sync::mpsc::channel();
        let keep = lines.clone();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("DevTools listening on ")
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(url.trim().to_string());
                }
                let mut keep = keep.lock().unwrap();
                if keep.len() < 2000 {
                    keep.push(line);
                }
            }
        });
        let url = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                panic!("Chromium did not start within 60 s; its stderr:\n{}", lines.lock().unwrap().join("\n"));
            }
        };
        let (ws, _) =
            tokio_tungstenite::connect_async(url.as_str()).await.unwrap_or_else(|e| panic!("connect to {url}: {e}"));
        let (mut sink, mut stream) = ws.split();
        let (out, mut out_rx) = mpsc::unbounded_channel::<String>();
        tokio::spawn(async move {
            while let Some(text) = out_rx.recv().await {
                if sink.send(Message::Text(text.into())).await.is_err() {
                    break;
                }
            }
        });
        let pending: Pending = Arc::default();
        let logs: Arc<Mutex<HashMap<String, Vec<String>>>> = Arc::default();
        let (p, l) = (pending.clone(), logs.clone());
        tokio::spawn(async move {
            while let Some(Ok(msg)) = stream.next().await {
                let Message::Text(text) = msg else { continue };
                let Ok(v) = serde_json::from_str::<Value>(&text) else { continue };
                if let Some(id) = v.get("id").and_then(Value::as_u64) {
                    if let Some(tx) = p.lock().unwrap().remove(&id) {
                        let _ = tx.send(v);
                    }
                    continue;
                }
                let session = v["sessionId"].as_str().unwrap_or("").to_string();
                let line = match v["method"].as_str() {
                    Some("Runtime.consoleAPICalled") => {
                        let args: Vec<String> = v["params"]["args"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .map(|a| {
                                a["value"].as_str().map(str::to_string).unwrap_or_else(|| a["description"].to_string())
                            })
                            .collect();
                        Some(format!("console.{}: {}", v["params"]["type"].as_str().unwrap_or("log"), args.join(" ")))
                    }
                    Some("Runtime.exceptionThrown") => {
                        let d = &v["params"]["exceptionDetails"];
                        Some(format!("exception: {} {}", d["text"], d["exception"]["description"]))
                    }
                    Some("Log.entryAdded") => Some(format!(
                        "log.{}: {} {}",
                        v["params"]["entry"]["level"].as_str().unwrap_or(""),
                        v["params"]["entry"]["text"].as_str().unwrap_or(""),
                        v["params"]["entry"]["url"].as_str().unwrap_or("")
                    )),
                    _ => None,
                };
                if let Some(line) = line {
                    let mut logs = l.lock().unwrap();
                    let list = logs.entry(session).or_default();
                    if list.len() < 500 {
                        list.push(line);
                    }
                }
            }
        });
        let cdp = Arc::new(Cdp { out, pending, next: AtomicU64::new(1), logs });
        Browser { child, cdp, _profile: profile, stderr: lines }
    }

    /// A new tab at `url` (same browser profile: shares IndexedDB and the service worker).
    pub async fn page(&self, name: &str, url: &str) -> Page {
        let target =
            self.cdp.call(None, "Target.createTarget", json!({ "url": "about:blank" })).await.expect("new tab");
        let target_id = target["targetId"].as_str().expect("targetId").to_string();
        let attached = self
            .cdp
            .call(None, "Target.attachToTarget", json!({ "targetId": target_id, "flatten": true }))
            .await
            .expect("attach to tab");
        let session = attached["sessionId"].as_str().expect("sessionId").to_string();
        let page =
            Page { cdp: self.cdp.clone(), session, name: name.to_string(), screen: Mutex::new((390, 844, true)) };
        for m in ["Runtime.enable", "Page.enable", "Log.enable"] {
            page.call(m, json!({})).await;
        }
        page.set_viewport(390, 844, true).await;
        page.goto(url).await;
        page
    }

    /// A DevTools command to the browser itself (permissions, …).
    pub async fn command(&self, method: &str, params: Value) -> Result<Value, String> {
        self.cdp.call(None, method, params).await
    }

    /// Chromium's own stderr (crashes, GPU noise), for failure reports.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().join("\n")
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let pid = self.child.id();
        // The whole process group (browser, zygote, renderers) this test started.
        let _ = Command::new("kill").args(["-9", "--", &format!("-{pid}")]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct Page {
    cdp: Arc<Cdp>,
    session: String,
    pub name: String,
    /// Width, height and mobile flag of the emulated screen.
    screen: Mutex<(u32, u32, bool)>,
}

impl Page {
    async fn call(&self, method: &str, params: Value) -> Value {
        self.cdp
            .call(Some(&self.session), method, params)
            .await
            .unwrap_or_else(|e| panic!("[{}] {e}\n{}", self.name, self.console()))
    }

    /// A DevTools command to this tab (geolocation override, …); fails the test on error.
    pub async fn command(&self, method: &str, params: Value) -> Value {
        self.call(method, params).await
    }

    /// Phone (390×844, touch) or desktop layout.
    pub async fn set_viewport(&self, width: u32, height: u32, mobile: bool) {
        *self.screen.lock().unwrap() = (width, height, mobile);
        self.metrics(width, height, mobile).await;
    }

    async fn metrics(&self, width: u32, height: u32, mobile: bool) {
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile }),
        )
        .await;
    }

    pub async fn goto(&self, url: &str) {
        self.call("Page.navigate", json!({ "url": url })).await;
        self.wait_loaded().await;
    }

    pub async fn reload(&self) {
        self.call("Page.reload", json!({ "ignoreCache": false })).await;
        self.wait_loaded().await;
    }

    async fn wait_loaded(&self) {
        // The old document may still answer for a moment: wait for a fresh, complete one.
        tokio::time::sleep(Duration::from_millis(100)).await;
        self.wait_for("document.readyState === 'complete'", Duration::from_secs(30)).await;
    }

    /// Evaluate `expr` (awaiting a promise); returns its JSON value. A thrown error fails
    /// the test with the page's console.
    pub async fn eval(&self, expr: &str) -> Value {
        match self.try_eval(expr).await {
            Ok(v) => v,
            Err(e) => panic!("[{}] {e}\nwhile evaluating: {expr}\n{}", self.name, self.console()),
        }
    }

    pub async fn try_eval(&self, expr: &str) -> Result<Value, String> {
        let r = self
            .cdp
            .call(
                Some(&self.session),
                "Runtime.evaluate",
                json!({ "expression": expr, "awaitPromise": true, "returnByValue": true, "userGesture": true }),
            )
            .await?;
        if let Some(ex) = r.get("exceptionDetails") {
            let text = ex["exception"]["description"].as_str().or(ex["text"].as_str()).unwrap_or("exception");
            return Err(text.to_string());
        }
        Ok(r["result"]["value"].clone())
    }

    /// Poll `expr` until it is truthy; fails with the last value, the console and a
    /// screenshot after `timeout`.
    pub async fn wait_for(&self, expr: &str, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let last = match self.try_eval(expr).await {
                Ok(v) if truthy(&v) => return v,
                Ok(v) => v,
                Err(e) => Value::String(format!("error: {e}")),
            };
            if Instant::now() > deadline {
                let shot = screenshot_dir().join(format!("FAILED-{}.png", self.name));
                let _ = self.try_screenshot(&shot).await;
                panic!(
                    "[{}] waited {timeout:?} for `{expr}`; last value {last}\nscreenshot: {}\n{}",
                    self.name,
                    shot.display(),
                    self.console()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Save a PNG of the page as it is now.
    pub async fn screenshot(&self, path: &Path) {
        if let Err(e) = self.try_screenshot(path).await {
            panic!("[{}] screenshot {}: {e}", self.name, path.display());
        }
    }

    /// The whole page: the screen is made as tall as the page for the shot (so fixed
    /// headers and footers sit where a user sees them), then restored.
    async fn try_screenshot(&self, path: &Path) -> Result<(), String> {
        let (width, height, mobile) = *self.screen.lock().unwrap();
        let full = self.try_eval("document.documentElement.scrollHeight").await?.as_u64().unwrap_or(0) as u32;
        let tall = full.clamp(height, 4000);
        let call = |m: &'static str, p: Value| self.cdp.call(Some(&self.session), m, p);
        if tall != height {
            call(
                "Emulation.setDeviceMetricsOverride",
                json!({ "width": width, "height": tall, "deviceScaleFactor": 1, "mobile": mobile }),
            )
            .await?;
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
        let r = call("Page.captureScreenshot", json!({ "format": "png" })).await;
        if tall != height {
            call(
                "Emulation.setDeviceMetricsOverride",
                json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile }),
            )
            .await?;
        }
        let r = r?;
        let data = r["data"].as_str().ok_or("no screenshot data")?;
        let png = base64_decode(data).ok_or("bad base64")?;
        std::fs::write(path, png).map_err(|e| e.to_string())
    }

    /// What the page logged (console, exceptions), for failure messages.
    pub fn console(&self) -> String {
        let logs = self.cdp.logs.lock().unwrap();
        let lines = logs.get(&self.session).cloned().unwrap_or_default();
        format!("--- console of {} ---\n{}", self.name, lines.join("\n"))
    }

    // ---- driving the UI through the DOM ------------------------------------------

    /// Set an input, select or textarea and fire the events a user's typing fires.
    pub async fn fill(&self, selector: &str, value: &str) {
        let js = format!(
            "(() => {{ const el = document.querySelector({sel}); if (!el) throw new Error('no element ' + {sel});
               el.focus(); el.value = {val}; el.dispatchEvent(new Event('input', {{bubbles: true}}));
               el.dispatchEvent(new Event('change', {{bubbles: true}})); return true; }})()",
            sel = js_str(selector),
            val = js_str(value)
        );
        self.eval(&js).await;
    }

    pub async fn click(&self, selector: &str) {
        let js = format!(
            "(() => {{ const el = document.querySelector({sel}); if (!el) throw new Error('no element ' + {sel});
               el.click(); return true; }})()",
            sel = js_str(selector)
        );
        self.eval(&js).await;
    }

    /// Wait until `selector` exists (and, if given, its text contains `text`).
    pub async fn wait_text(&self, selector: &str, text: &str) {
        let js = format!(
            "(() => {{ const el = document.querySelector({sel}); return !!el && el.textContent.includes({t}); }})()",
            sel = js_str(selector),
            t = js_str(text)
        );
        self.wait_for(&js, Duration::from_secs(30)).await;
    }

    pub async fn text(&self, selector: &str) -> String {
        let js = format!("(document.querySelector({}) || {{}}).textContent || ''", js_str(selector));
        self.eval(&js).await.as_str().unwrap_or_default().to_string()
    }

    /// `client.status()` of the app in this tab, parsed.
    pub async fn status(&self) -> Value {
        let v = self.eval("window.jiuloop ? window.jiuloop.client.status() : 'null'").await;
        serde_json::from_str(v.as_str().unwrap_or("null")).unwrap_or(Value::Null)
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        _ => true,
    }
}

/// A JavaScript string literal.
pub fn js_str(s: &str) -> String {
    serde_json::to_string(s).expect("strings serialize")
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut buf, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' | b'\n' | b'\r' => continue,
            _ => return None,
        };
        buf = (buf << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
            buf &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_decodes() {
        assert_eq!(super::base64_decode("aGVsbG8gd29ybGQ=").unwrap(), b"hello world");
        assert_eq!(super::base64_decode("AAEC/w==").unwrap(), [0, 1, 2, 255]);
    }
}
