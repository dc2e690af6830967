//! What may be retried, and when (docs/sdk.md "Retries").
//!
//! The policy, in one place:
//! - Reads are retried on 5xx, a 429 rate limit, timeouts and network errors.
//! - Writes are resent only when the request surely was not processed: a 429 rate limit or
//!   a refused connection. A timeout, a reset or a 5xx after a write is *ambiguous*: the
//!   caller reconciles (looks the lead up by referenceId) instead of resending blindly.
//! - A `key_blocked` 429, 4xx answers and aborts are final.
//! - Reconciliation (lookup, then resend only if not found) is bounded by `maxRetries` as
//!   everything else: each lookup is retried at most `maxRetries` times, a lead is resent at
//!   most `maxRetries` times, and one `initiateLead` makes at most [`call_attempts`]
//!   `= 2 × (1 + maxRetries)` requests in all (with `maxRetries` 0: the write and one lookup).
//!   After a timeout it first waits a grace period (the request may still be running on the
//!   server). A resent lead refused as a duplicate is looked up once more: found means our
//!   earlier attempt created it late, and it is reported created.
//! - Waits grow exponentially with full jitter in [0.5, 1] of the step, capped, and are never
//!   shorter than the server's `Retry-After`.
//! - No call waits longer than [`wait_cap_ms`] at once (a minute, or the rate window when that
//!   is longer): a `Retry-After` past it ends the call at once with its `retryAfterMs`, and a
//!   project paused for longer than that (by such a 429) fails calls at once instead of
//!   sleeping, with the time left as `retryAfterMs`.

use crate::core::error::{Code, VoxError};

/// What a request does, which decides what may be retried: a read may simply be asked again;
/// a write that may have been processed may not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Read,
    Write,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    /// Try again after this many milliseconds.
    RetryAfter(f64),
    /// Stop: the request surely failed (the error is final).
    Fail,
    /// Stop: a write may or may not have been processed.
    Ambiguous,
}

pub const BASE_DELAY_MS: f64 = 500.0;

/// Rounds of lookup-then-resend for one lead: `maxRetries` (none when it is 0).
pub fn reconcile_budget(max_retries: u32) -> u32 {
    max_retries
}

/// The most requests one single-lead call makes, its lookups included.
pub fn call_attempts(max_retries: u32) -> u32 {
    2 * (1 + max_retries)
}

/// How long to wait after a timed-out write before looking its lead up: the request may still
/// be in progress on the server. As long as the timeout itself, within [1 s, 10 s].
pub fn reconcile_grace_ms(timeout_ms: f64) -> f64 {
    timeout_ms.clamp(1000.0, 10_000.0)
}
pub const MAX_DELAY_MS: f64 = 30_000.0;

/// The longest wait a call makes at once for the server's `Retry-After` or a paused project.
pub const MAX_WAIT_MS: f64 = 60_000.0;

/// [`MAX_WAIT_MS`], or the rate window `window_ms` when it is longer (a limit of a few
/// requests an hour means long waits, and they are the caller's choice).
pub fn wait_cap_ms(window_ms: f64) -> f64 {
    MAX_WAIT_MS.max(window_ms)
}

/// Back-off before retry number `attempt` (1 = first retry); `random` is in [0, 1).
pub fn backoff_ms(attempt: u32, random: f64) -> f64 {
    let step =
        (BASE_DELAY_MS * 2f64.powi(attempt.saturating_sub(1).min(16) as i32)).min(MAX_DELAY_MS);
    step * (0.5 + 0.5 * random.clamp(0.0, 1.0))
}

/// Whether the error can have happened after the server processed the request.
pub fn is_ambiguous(err: &VoxError) -> bool {
    matches!(
        err.code,
        Code::ServerError | Code::Timeout | Code::NetworkError | Code::InvalidResponse
    )
}

/// Decides what to do after attempt number `attempt` (1-based) failed with `err`.
/// `refused` is true when the connection was refused (nothing reached the server); a retry
/// that would wait longer than `cap_ms` is not made.
pub fn decide(
    kind: Kind,
    err: &VoxError,
    refused: bool,
    attempt: u32,
    max_retries: u32,
    random: f64,
    cap_ms: f64,
) -> Decision {
    let retriable = match err.code {
        Code::RateLimited => true,
        Code::NetworkError if refused => true,
        // A 200 with an unreadable body: a read is simply asked again; a write was processed.
        Code::ServerError | Code::Timeout | Code::NetworkError | Code::InvalidResponse => {
            kind == Kind::Read
        }
        _ => false,
    };
    let wait = backoff_ms(attempt, random).max(err.retry_after_ms.unwrap_or(0.0));
    if retriable && attempt <= max_retries && wait <= cap_ms {
        return Decision::RetryAfter(wait);
    }
    if kind == Kind::Write && is_ambiguous(err) && !refused {
        Decision::Ambiguous
    } else {
        Decision::Fail
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(code: Code) -> VoxError {
        VoxError::new(code, "x")
    }

    #[test]
    fn backoff_grows_with_jitter_and_cap() {
        assert_eq!(backoff_ms(1, 0.0), 250.0);
        assert_eq!(backoff_ms(1, 1.0), 500.0);
        assert_eq!(backoff_ms(3, 1.0), 2000.0);
        assert_eq!(backoff_ms(30, 1.0), MAX_DELAY_MS);
        let b = backoff_ms(2, 0.3);
        assert!((500.0..=1000.0).contains(&b));
    }

    #[test]
    fn reads_retry_on_transient_failures() {
        for code in [
            Code::ServerError,
            Code::Timeout,
            Code::NetworkError,
            Code::RateLimited,
        ] {
            assert!(
                matches!(
                    decide(Kind::Read, &err(code), false, 1, 2, 0.5, MAX_WAIT_MS),
                    Decision::RetryAfter(_)
                ),
                "{code:?}"
            );
        }
        assert_eq!(
            decide(
                Kind::Read,
                &err(Code::ServerError),
                false,
                3,
                2,
                0.5,
                MAX_WAIT_MS
            ),
            Decision::Fail
        );
    }

    #[test]
    fn writes_resend_only_when_surely_not_processed() {
        assert!(matches!(
            decide(
                Kind::Write,
                &err(Code::RateLimited),
                false,
                1,
                2,
                0.5,
                MAX_WAIT_MS
            ),
            Decision::RetryAfter(_)
        ));
        assert!(matches!(
            decide(
                Kind::Write,
                &err(Code::NetworkError),
                true,
                1,
                2,
                0.5,
                MAX_WAIT_MS
            ),
            Decision::RetryAfter(_)
        ));
        for code in [
            Code::ServerError,
            Code::Timeout,
            Code::NetworkError,
            Code::InvalidResponse,
        ] {
            assert_eq!(
                decide(Kind::Write, &err(code), false, 1, 2, 0.5, MAX_WAIT_MS),
                Decision::Ambiguous,
                "{code:?}"
            );
        }
    }

    #[test]
    fn final_errors_are_never_retried() {
        for code in [
            Code::KeyBlocked,
            Code::BadRequest,
            Code::Forbidden,
            Code::NotFound,
            Code::Aborted,
        ] {
            assert_eq!(
                decide(Kind::Read, &err(code), false, 1, 5, 0.5, MAX_WAIT_MS),
                Decision::Fail,
                "{code:?}"
            );
            assert_eq!(
                decide(Kind::Write, &err(code), false, 1, 5, 0.5, MAX_WAIT_MS),
                Decision::Fail,
                "{code:?}"
            );
        }
    }

    #[test]
    fn retry_after_is_honoured_up_to_the_cap() {
        let e = err(Code::RateLimited).with_retry_after(Some(4000.0));
        assert_eq!(
            decide(Kind::Write, &e, false, 1, 2, 0.0, MAX_WAIT_MS),
            Decision::RetryAfter(4000.0)
        );
        let day = err(Code::RateLimited).with_retry_after(Some(86_400_000.0));
        assert_eq!(
            decide(Kind::Read, &day, false, 1, 2, 0.0, MAX_WAIT_MS),
            Decision::Fail
        );
        assert_eq!(
            decide(Kind::Write, &day, false, 1, 2, 0.0, MAX_WAIT_MS),
            Decision::Fail
        );
        // A 503 asking for a day: a read fails, a write stays ambiguous (it may have run).
        let down = err(Code::ServerError).with_retry_after(Some(86_400_000.0));
        assert_eq!(
            decide(Kind::Read, &down, false, 1, 2, 0.0, MAX_WAIT_MS),
            Decision::Fail
        );
        assert_eq!(
            decide(Kind::Write, &down, false, 1, 2, 0.0, MAX_WAIT_MS),
            Decision::Ambiguous
        );
        assert_eq!(wait_cap_ms(3_600_000.0), 3_600_000.0);
        assert_eq!(wait_cap_ms(5025.0), MAX_WAIT_MS);
    }
}
