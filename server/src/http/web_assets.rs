//! The browser app, served at `/` from the directory named by `serve --web DIR` (built by
//! `scripts/build-web.sh` into `target/web`). Every path the API does not claim is looked
//! up there; without the directory, `/` explains how to build and serve the app.
//!
//! Files are sent with their content type (`application/wasm` matters: browsers compile
//! wasm while it downloads only with it), a precompressed `NAME.gz` beside a file is sent
//! to clients that accept gzip, and `Cache-Control: no-cache` plus an ETag let the
//! service worker and the browser revalidate cheaply. Paths never leave the directory.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Serve the app from `dir` for every route `router` does not have.
pub fn with_web_app(router: Router, dir: Option<PathBuf>) -> Router {
    let dir = Arc::new(dir);
    router.fallback(move |method: Method, uri: Uri, headers: HeaderMap| {
        let dir = dir.clone();
        async move { serve(dir.as_ref().as_deref(), &method, &uri, &headers).await }
    })
}

/// Content type by file extension.
pub fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext.to_ascii_lowercase()).as_deref() {
        Some("html" | "htm") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("json") => "application/json",
        Some("webmanifest") => "application/manifest+json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The file a request path names, relative to the app directory; None for anything that
/// could leave it (`..`, hidden files, backslashes, encoded characters).
pub fn relative_path(uri_path: &str) -> Option<String> {
    let path = uri_path.trim_start_matches('/');
    let path = if path.is_empty() { "index.html" } else { path };
    let ok =
        path.split('/').all(|seg| !seg.is_empty() && !seg.starts_with('.') && !seg.contains(['\\', '%', ':', '\0']));
    ok.then(|| path.to_string())
}

const NOT_BUILT: &str = r#"<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>jiuloop</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;line-height:1.6}code{background:#f3f3f3;padding:.1rem .3rem}</style>
</head><body>
<h1>jiuloop 服务器正在运行 · jiuloop-server is running</h1>
<p>网页版尚未构建或未启用。The web app is not being served: {why}</p>
<p>构建并启动 · Build it and serve it:</p>
<pre><code>scripts/build-web.sh            # builds target/web
jiuloop-server serve --web target/web
# or both at once:
scripts/run-server.sh</code></pre>
<p>同步接口照常可用 · Sync (<code>/sync</code>) and login (<code>/api/login</code>) work as usual.</p>
</body></html>
"#;

fn not_built(why: &str) -> Response {
    let body = NOT_BUILT.replace("{why}", why);
    let mut r = (StatusCode::SERVICE_UNAVAILABLE, body).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "not found\n").into_response()
}

pub async fn serve(dir: Option<&Path>, method: &Method, uri: &Uri, headers: &HeaderMap) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return (StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n").into_response();
    }
    let Some(rel) = relative_path(uri.path()) else { return not_found() };
    let Some(dir) = dir else {
        return if rel == "index.html" {
            not_built("the server was started without <code>--web DIR</code>.")
        } else {
            not_found()
        };
    };
    let file = dir.join(&rel);
    let meta = match file_io({
        let f = file.clone();
        move || std::fs::metadata(f)
    })
    .await
    {
        Ok(m) if m.is_file() => m,
        _ if rel == "index.html" => {
            return not_built(&format!("<code>{}</code> has no index.html.", html_escape(&dir.display().to_string())));
        }
        _ => return not_found(),
    };
    let gz = dir.join(format!("{rel}.gz"));
    let wants_gzip = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
    let (path, meta, gzipped) = match file_io({
        let g = gz.clone();
        move || std::fs::metadata(g)
    })
    .await
    {
        Ok(gm) if wants_gzip && gm.is_file() => (gz, gm, true),
        _ => (file, meta, false),
    };
    let mtime = meta.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).unwrap_or_default();
    let etag = format!("\"{:x}-{:x}{}\"", meta.len(), mtime.as_millis(), if gzipped { "-gz" } else { "" });
    let mut builder = Response::builder()
        .header(header::CONTENT_TYPE, content_type(&rel))
        .header(header::CACHE_CONTROL, "no-cache")
        .header(header::ETAG, &etag)
        .header(header::VARY, "Accept-Encoding")
        .header("x-content-type-options", "nosniff");
    if gzipped {
        builder = builder.header(header::CONTENT_ENCODING, "gzip");
    }
    if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| v == etag) {
        return builder.status(StatusCode::NOT_MODIFIED).body(Body::empty()).unwrap_or_else(|_| not_found());
    }
    let body = if method == Method::HEAD {
        Body::empty()
    } else {
        match file_io({
            let p = path.clone();
            move || std::fs::read(p)
        })
        .await
        {
            Ok(bytes) => Body::from(bytes),
            Err(_) => return not_found(),
        }
    };
    builder.header(header::CONTENT_LENGTH, meta.len()).body(body).unwrap_or_else(|_| not_found())
}

/// File IO off the async threads (small files; the app is a handful of them).
async fn file_io<T: Send + 'static>(f: impl FnOnce() -> std::io::Result<T> + Send + 'static) -> std::io::Result<T> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|e| Err(std::io::Error::other(e)))
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_app_directory() {
        let cases = [
            ("/", Some("index.html")),
            ("/pkg/jiuloop_wasm_bg.wasm", Some("pkg/jiuloop_wasm_bg.wasm")),
            ("/../etc/passwd", None),
            ("/pkg/../../x", None),
            ("/.git/config", None),
            ("/a%2e%2e/b", None),
            ("/a\\b", None),
            ("//etc/passwd", Some("etc/passwd")),
            ("/a//b", None),
        ];
        for (path, want) in cases {
            assert_eq!(relative_path(path).as_deref(), want, "{path}");
        }
    }

    #[test]
    fn content_types_include_wasm() {
        assert_eq!(content_type("pkg/x_bg.wasm"), "application/wasm");
        assert_eq!(content_type("app.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("manifest.webmanifest"), "application/manifest+json");
        assert_eq!(content_type("noext"), "application/octet-stream");
    }

    async fn get(dir: Option<&Path>, path: &str, gzip: bool) -> (StatusCode, HeaderMap, Vec<u8>) {
        let mut headers = HeaderMap::new();
        if gzip {
            headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip, br"));
        }
        let r = serve(dir, &Method::GET, &path.parse().unwrap(), &headers).await;
        let status = r.status();
        let headers = r.headers().clone();
        let body = axum::body::to_bytes(r.into_body(), usize::MAX).await.unwrap().to_vec();
        (status, headers, body)
    }

    #[tokio::test]
    async fn files_are_served_with_types_gzip_and_etags() {
        let dir = std::env::temp_dir().join(format!("jiuloop-web-assets-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(dir.join("pkg")).unwrap();
        std::fs::write(dir.join("index.html"), "<h1>app</h1>").unwrap();
        std::fs::write(dir.join("pkg/a.wasm"), b"\0asm").unwrap();
        std::fs::write(dir.join("pkg/a.wasm.gz"), b"gzipped").unwrap();

        let (status, h, body) = get(Some(&dir), "/", false).await;
        assert_eq!((status, body.as_slice()), (StatusCode::OK, &b"<h1>app</h1>"[..]));
        assert_eq!(h[header::CONTENT_TYPE], "text/html; charset=utf-8");
        let (_, h, body) = get(Some(&dir), "/pkg/a.wasm", false).await;
        assert_eq!((h[header::CONTENT_TYPE].to_str().unwrap(), body.as_slice()), ("application/wasm", &b"\0asm"[..]));
        let (_, h, body) = get(Some(&dir), "/pkg/a.wasm", true).await;
        assert_eq!((h[header::CONTENT_ENCODING].to_str().unwrap(), body.as_slice()), ("gzip", &b"gzipped"[..]));

        let mut again = HeaderMap::new();
        again.insert(header::IF_NONE_MATCH, h[header::ETAG].clone());
        again.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
        let r = serve(Some(&dir), &Method::GET, &"/pkg/a.wasm".parse().unwrap(), &again).await;
        assert_eq!(r.status(), StatusCode::NOT_MODIFIED);

        assert_eq!(get(Some(&dir), "/missing.js", false).await.0, StatusCode::NOT_FOUND);
        assert_eq!(get(Some(&dir), "/../index.html", false).await.0, StatusCode::NOT_FOUND);
        let post = serve(Some(&dir), &Method::POST, &"/".parse().unwrap(), &HeaderMap::new()).await;
        assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
        std::fs::remove_dir_all(&dir).unwrap();

        // Not built, or not asked for: a page that says how to build it.
        for d in [None, Some(dir.as_path())] {
            let (status, _, body) = get(d, "/", false).await;
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
            assert!(String::from_utf8(body).unwrap().contains("scripts/build-web.sh"));
        }
        assert_eq!(get(None, "/app.js", false).await.0, StatusCode::NOT_FOUND);
    }
}
