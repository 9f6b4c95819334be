//! `/healthz`, `/readyz` and `/metrics` over a minimal HTTP/1.1 responder (GET only, one request
//! per connection), so the operator needs no web framework.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::metrics::Metrics;

/// Status line and body for a request line.
pub fn respond(request_line: &str, metrics: &Metrics) -> (&'static str, String) {
    let mut parts = request_line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if method != "GET" {
        return ("405 Method Not Allowed", "GET only\n".into());
    }
    match path {
        "/healthz" => ("200 OK", "ok\n".into()),
        "/readyz" if metrics.synced.load(Ordering::Relaxed) => ("200 OK", "ok\n".into()),
        "/readyz" => ("503 Service Unavailable", "caches not synced\n".into()),
        "/metrics" => ("200 OK", metrics.render()),
        _ => ("404 Not Found", "not found\n".into()),
    }
}

/// Serves until the listener fails.
pub async fn serve(listener: TcpListener, metrics: Arc<Metrics>) -> std::io::Result<()> {
    loop {
        let (mut sock, _) = listener.accept().await?;
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            let mut len = 0;
            while len < buf.len() {
                match sock.read(&mut buf[len..]).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => len += n,
                }
                if buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
            let text = String::from_utf8_lossy(&buf[..len]);
            let (status, body) = respond(text.lines().next().unwrap_or(""), &metrics);
            let reply = format!(
                "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = sock.write_all(reply.as_bytes()).await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        let m = Metrics::default();
        assert_eq!(respond("GET /healthz HTTP/1.1", &m).0, "200 OK");
        assert_eq!(
            respond("GET /readyz HTTP/1.1", &m).0,
            "503 Service Unavailable"
        );
        m.synced.store(true, Ordering::Relaxed);
        assert_eq!(respond("GET /readyz HTTP/1.1", &m).0, "200 OK");
        assert!(
            respond("GET /metrics HTTP/1.1", &m)
                .1
                .contains("hatang_objects")
        );
        assert_eq!(
            respond("POST /metrics HTTP/1.1", &m).0,
            "405 Method Not Allowed"
        );
        assert_eq!(respond("GET /x HTTP/1.1", &m).0, "404 Not Found");
    }
}
