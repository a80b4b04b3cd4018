//! Helpers shared by the integration tests.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fdk::{Body, Context, Json};
use serde::Serialize;

/// Everything a handler can see of a call, as JSON.
#[derive(Serialize)]
pub(crate) struct Seen {
    pub(crate) call_id: String,
    pub(crate) deadline_unix: Option<u64>,
    pub(crate) is_gateway: bool,
    pub(crate) method: Option<String>,
    pub(crate) request_url: Option<String>,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) content_type: Option<String>,
    pub(crate) headers: Vec<(String, String)>,
    pub body_b64: String,
}

/// A handler that reports what it saw.
pub(crate) async fn introspect(ctx: Context, body: Body) -> Json<Seen> {
    let body = body.collect().await.unwrap();
    let gw = ctx.gateway();
    Json(Seen {
        call_id: ctx.call_id().to_owned(),
        deadline_unix: ctx
            .deadline()
            .map(|d| d.duration_since(UNIX_EPOCH).unwrap().as_secs()),
        is_gateway: ctx.is_gateway(),
        method: gw.map(|g| g.method().to_string()),
        request_url: gw.map(|g| g.url().to_string()),
        query: gw
            .map(|g| {
                g.query_pairs()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect()
            })
            .unwrap_or_default(),
        content_type: ctx.content_type().map(str::to_owned),
        headers: ctx
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body_b64: b64_encode(&body),
    })
}

/// A deadline `secs` from now in the server's format (whole seconds, UTC).
pub(crate) fn deadline_in(secs: u64) -> String {
    let t = SystemTime::now() + Duration::from_secs(secs);
    let secs = t.duration_since(UNIX_EPOCH).unwrap().as_secs();
    // Reuse the civil-date arithmetic through the test kit's formatter.
    let call = fdk::testing::TestCall::invoke().deadline(UNIX_EPOCH + Duration::from_secs(secs));
    call.socket_request().headers()["fn-deadline"]
        .to_str()
        .unwrap()
        .to_owned()
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub(crate) fn b64_encode(data: &[u8]) -> String {
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub(crate) fn b64_decode(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut acc = 0u32;
    let mut bits = 0;
    for c in text.bytes().filter(|&c| c != b'=') {
        let v = B64.iter().position(|&x| x == c).unwrap() as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

/// Replaces the value of `Fn-Deadline` in raw request bytes (same length).
pub(crate) fn with_fresh_deadline(raw: &[u8]) -> Vec<u8> {
    let text = raw.to_vec();
    let key = b"Fn-Deadline: ";
    let Some(at) = text.windows(key.len()).position(|w| w == key) else {
        return text;
    };
    let start = at + key.len();
    let fresh = deadline_in(30);
    let mut out = text;
    out[start..start + fresh.len()].copy_from_slice(fresh.as_bytes());
    out
}

#[test]
fn base64_round_trips() {
    for data in [&b""[..], b"f", b"fo", b"foo", b"foob", &[0xff, 0, 0x80]] {
        assert_eq!(b64_decode(&b64_encode(data)), data);
    }
}
