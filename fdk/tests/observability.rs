//! The `fn_call` span (HS-TRACE-4), trace headers on gateway calls
//! (HS-TRACE-3), and the tower adapter.

use std::sync::{Arc, Mutex};

use fdk::testing::TestCall;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// Records the fields of every span named `fn_call`, including those
/// recorded after creation.
#[derive(Clone, Default)]
struct Spans(Arc<Mutex<Vec<SpanFields>>>);

/// The fields of one span, in recording order.
type SpanFields = Vec<(String, String)>;

/// Span ids of `fn_call` spans are their index plus one; others get 0+big.
const OTHER: u64 = 1 << 40;

struct Fields(Vec<(String, String)>);

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push((field.name().to_owned(), value.to_owned()));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push((field.name().to_owned(), format!("{value:?}")));
    }
}

impl Subscriber for Spans {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        if attrs.metadata().name() != "fn_call" {
            return Id::from_u64(OTHER);
        }
        let mut fields = Fields(Vec::new());
        attrs.record(&mut fields);
        let mut spans = self.0.lock().unwrap();
        spans.push(fields.0);
        Id::from_u64(spans.len() as u64)
    }
    fn record(&self, id: &Id, values: &Record<'_>) {
        let mut spans = self.0.lock().unwrap();
        if let Some(fields) = spans.get_mut(id.into_u64() as usize - 1) {
            let mut more = Fields(Vec::new());
            values.record(&mut more);
            fields.extend(more.0);
        }
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, _: &Event<'_>) {}
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[tokio::test]
async fn each_call_runs_in_an_fn_call_span_with_its_ids() {
    let spans = Spans::default();
    let _guard = tracing::subscriber::set_default(spans.clone());
    async fn inside() -> &'static str {
        "ok"
    }
    let call = TestCall::gateway("GET", "http://h/t/a/f")
        .call_id("01SPAN")
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        );
    // tracing caches whether a callsite is enabled, process-wide. Another
    // test's thread, with no subscriber, can hit the span's callsite for the
    // first time while this one installs its own, and cache "disabled" after
    // `set_default` rebuilt the cache: then the first call records nothing.
    // Rebuilding again and calling again settles it; one span per call.
    let mut seen = Vec::new();
    for _ in 0..5 {
        tracing::callsite::rebuild_interest_cache();
        assert_eq!(call.clone().send(inside).await.status(), 200);
        seen = spans.0.lock().unwrap().clone();
        if !seen.is_empty() {
            break;
        }
    }
    assert_eq!(seen.len(), 1);
    let fields = &seen[0];
    assert!(
        fields.contains(&("call_id".into(), "01SPAN".into())),
        "{fields:?}"
    );
    assert!(
        fields
            .iter()
            .any(|(k, v)| k == "trace_id" && v.contains("4bf92f3577b34da6a3ce929d0e0e4736")),
        "{fields:?}"
    );
}

#[test]
fn gateway_trace_headers_are_found_under_the_prefix() {
    // A trigger client's B3 headers arrive as Fn-Http-H-X-B3-*.
    let ctx = TestCall::gateway("GET", "http://h/t/a/f")
        .header("X-B3-TraceId", "463ac35c9f6413ad48485a3953bb6124")
        .header("X-B3-SpanId", "a2fb4a1d1a96d312")
        .context();
    assert_eq!(
        ctx.trace().trace_id(),
        Some("463ac35c9f6413ad48485a3953bb6124")
    );
    assert_eq!(ctx.trace().parent_span_id(), Some("a2fb4a1d1a96d312"));
}

#[cfg(feature = "tower")]
mod tower {
    use std::convert::Infallible;
    use std::future::Ready;
    use std::task::{Context as TaskContext, Poll};

    use fdk::testing::TestCall;
    use fdk::{Body, Context, http};

    /// Answers `<method> <path> <query>` with status 201 and a header.
    #[derive(Clone)]
    struct Describe;

    impl tower_service::Service<http::Request<Body>> for Describe {
        type Response = http::Response<Body>;
        type Error = Infallible;
        type Future = Ready<Result<Self::Response, Infallible>>;
        fn poll_ready(&mut self, _: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
            Poll::Ready(Ok(()))
        }
        fn call(&mut self, req: http::Request<Body>) -> Self::Future {
            let ctx = req.extensions().get::<Context>().unwrap();
            let text = format!(
                "{} {} {} {}",
                req.method(),
                req.uri().path(),
                req.uri().query().unwrap_or("-"),
                ctx.call_id()
            );
            std::future::ready(Ok(http::Response::builder()
                .status(201)
                .header("X-Served-By", "tower")
                .body(text.into())
                .unwrap()))
        }
    }

    #[tokio::test]
    async fn a_tower_service_serves_gateway_and_invoke_calls() {
        let gw = TestCall::gateway("PUT", "http://h/t/app/items?id=3").call_id("g1");
        let res = gw.send_to(fdk::tower::function(Describe)).await;
        assert_eq!(res.header("fn-http-status"), Some("201"));
        assert_eq!(res.header("fn-http-h-x-served-by"), Some("tower"));
        assert_eq!(res.text(), "PUT /t/app/items id=3 g1");

        let res = TestCall::invoke()
            .call_id("i1")
            .send_to(fdk::tower::function(Describe))
            .await;
        assert_eq!(res.header("x-served-by"), Some("tower"));
        assert_eq!(res.text(), "POST / - i1");
    }
}
