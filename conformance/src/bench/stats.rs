//! Percentiles by the nearest-rank method: the p-th percentile of n sorted
//! samples is the sample at rank ⌈p/100 · n⌉ (1-based), so it is always a
//! value that was measured, and p100 is the maximum.

use serde::Serialize;

/// The nearest-rank `p`-th percentile (0 < p ≤ 100) of `sorted` (ascending).
/// `None` for no samples.
pub(crate) fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let rank = (p.clamp(0.0, 100.0) / 100.0 * n as f64).ceil() as usize;
    sorted.get(rank.clamp(1, n) - 1).copied()
}

/// The latency summary of one function, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub(crate) struct LatencySummary {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Slowest call.
    pub max: f64,
    /// Arithmetic mean.
    pub mean: f64,
}

impl LatencySummary {
    /// Summarises latencies given in nanoseconds (sorts them in place).
    pub(crate) fn from_nanos(samples: &mut [u64]) -> Option<Self> {
        samples.sort_unstable();
        let us = |p: f64| percentile(samples, p).map(|ns| ns as f64 / 1000.0);
        let sum: u128 = samples.iter().map(|&ns| u128::from(ns)).sum();
        Some(Self {
            p50: us(50.0)?,
            p90: us(90.0)?,
            p99: us(99.0)?,
            max: us(100.0)?,
            mean: sum as f64 / samples.len() as f64 / 1000.0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), Some(50));
        assert_eq!(percentile(&v, 90.0), Some(90));
        assert_eq!(percentile(&v, 99.0), Some(99));
        assert_eq!(percentile(&v, 99.5), Some(100));
        assert_eq!(percentile(&v, 100.0), Some(100));
        assert_eq!(percentile(&v, 0.0), Some(1));
    }

    #[test]
    fn small_samples() {
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(percentile(&[7], 99.0), Some(7));
        // Median of five is the third; of four, the second (lower middle).
        assert_eq!(percentile(&[1, 2, 3, 4, 5], 50.0), Some(3));
        assert_eq!(percentile(&[1, 2, 3, 4], 50.0), Some(2));
        assert_eq!(percentile(&[10, 20, 30], 90.0), Some(30));
        assert_eq!(percentile(&[10, 20, 30], 66.0), Some(20));
        assert_eq!(percentile(&[10, 20, 30], 67.0), Some(30));
    }

    #[test]
    fn summary_sorts_and_converts_to_microseconds() {
        let mut ns = vec![5_000, 1_000, 3_000, 2_000, 4_000];
        let s = LatencySummary::from_nanos(&mut ns).unwrap();
        assert_eq!(ns, [1_000, 2_000, 3_000, 4_000, 5_000]);
        assert_eq!(
            (s.p50, s.p90, s.p99, s.max, s.mean),
            (3.0, 5.0, 5.0, 5.0, 3.0)
        );
        assert_eq!(LatencySummary::from_nanos(&mut []), None);
    }
}
