//! Streaming both ways: the request body is read chunk by chunk (memory stays
//! flat whatever its size), and the response is written while the server
//! reads it.

use fdk::{Body, FunctionError};

/// Counts the lines and bytes of the request without holding it, then
/// streams one report line per thousand lines.
#[fdk::handler]
async fn line_stats(mut body: Body) -> Result<Body, FunctionError> {
    let (mut lines, mut bytes) = (0u64, 0u64);
    while let Some(chunk) = body.chunk().await {
        let chunk = chunk?;
        bytes += chunk.len() as u64;
        lines += chunk.iter().filter(|&&b| b == b'\n').count() as u64;
    }
    let (mut tx, out) = Body::channel();
    tokio::spawn(async move {
        for n in (1000..=lines).step_by(1000) {
            if tx.send(format!("passed {n} lines\n")).await.is_err() {
                return; // the server hung up
            }
        }
        let _ = tx
            .send(format!("total: {lines} lines, {bytes} bytes\n"))
            .await;
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use fdk::testing::TestCall;

    #[tokio::test]
    async fn reports_progress_and_totals() {
        let input = "x\n".repeat(2500);
        let res = TestCall::invoke().body(input).send(line_stats).await;
        assert_eq!(res.status(), 200);
        assert_eq!(
            res.text(),
            "passed 1000 lines\npassed 2000 lines\ntotal: 2500 lines, 5000 bytes\n"
        );
    }

    #[tokio::test]
    async fn an_empty_body_is_zero_lines() {
        let res = TestCall::invoke().send(line_stats).await;
        assert_eq!(res.text(), "total: 0 lines, 0 bytes\n");
    }
}
