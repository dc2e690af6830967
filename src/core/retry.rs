//! What may be retried, and when (SDK.md "Retries").
//!
//! The policy, in one place:
//! - Reads are retried on 5xx, a 429 rate limit, timeouts and network errors.
//! - Writes are resent only when the request surely was not processed: a 429 rate limit or
//!   a refused connection. A timeout, a reset or a 5xx after a write is *ambiguous*: the
//!   caller reconciles (looks the lead up by referenceId) instead of resending blindly.
//! - A `key_blocked` 429, 4xx answers and aborts are final.
//! - Reconciliation (lookup, then resend only if not found) gets at least
//!   `MIN_RECONCILE_ROUNDS` rounds and each lookup at least `MIN_LOOKUP_RETRIES` retries,
//!   unless `maxRetries` is 0 (then one lookup, and no resend). After a timeout it
//!   first waits a grace period (the request may still be running on the server). A resent
//!   lead refused as a duplicate is looked up once more: found means our earlier attempt
//!   created it late, and it is reported created.
//! - Waits grow exponentially with full jitter in [0.5, 1] of the step, capped, and are never
//!   shorter than the server's `Retry-After`.

use crate::core::error::{Code, VoxError};

/// How a request ended without a usable answer.
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

/// Reconciliation after an ambiguous write (a Get Lead by referenceId, then a resend when the
/// lead does not exist) is allowed more rounds than `maxRetries`: a lookup is a harmless read,
/// and giving up early would leave a lead's outcome unknown.
pub const MIN_RECONCILE_ROUNDS: u32 = 5;
pub const MIN_LOOKUP_RETRIES: u32 = 8;

/// Rounds of lookup-then-resend for one lead (none when the caller asked for no retries).
pub fn reconcile_budget(max_retries: u32) -> u32 {
    if max_retries == 0 {
        0
    } else {
        max_retries.max(MIN_RECONCILE_ROUNDS)
    }
}

/// Retries of one reconciliation lookup (none when the caller asked for no retries).
pub fn lookup_retries(max_retries: u32) -> u32 {
    if max_retries == 0 {
        0
    } else {
        max_retries.max(MIN_LOOKUP_RETRIES)
    }
}

/// How long to wait after a timed-out write before looking its lead up: the request may still
/// be in progress on the server. As long as the timeout itself, within [1 s, 10 s].
pub fn reconcile_grace_ms(timeout_ms: f64) -> f64 {
    timeout_ms.clamp(1000.0, 10_000.0)
}
pub const MAX_DELAY_MS: f64 = 30_000.0;

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
/// `refused` is true when the connection was refused (nothing reached the server).
pub fn decide(
    kind: Kind,
    err: &VoxError,
    refused: bool,
    attempt: u32,
    max_retries: u32,
    random: f64,
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
    if retriable && attempt <= max_retries {
        let wait = backoff_ms(attempt, random).max(err.retry_after_ms.unwrap_or(0.0));
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
                    decide(Kind::Read, &err(code), false, 1, 2, 0.5),
                    Decision::RetryAfter(_)
                ),
                "{code:?}"
            );
        }
        assert_eq!(
            decide(Kind::Read, &err(Code::ServerError), false, 3, 2, 0.5),
            Decision::Fail
        );
    }

    #[test]
    fn writes_resend_only_when_surely_not_processed() {
        assert!(matches!(
            decide(Kind::Write, &err(Code::RateLimited), false, 1, 2, 0.5),
            Decision::RetryAfter(_)
        ));
        assert!(matches!(
            decide(Kind::Write, &err(Code::NetworkError), true, 1, 2, 0.5),
            Decision::RetryAfter(_)
        ));
        for code in [
            Code::ServerError,
            Code::Timeout,
            Code::NetworkError,
            Code::InvalidResponse,
        ] {
            assert_eq!(
                decide(Kind::Write, &err(code), false, 1, 2, 0.5),
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
                decide(Kind::Read, &err(code), false, 1, 5, 0.5),
                Decision::Fail,
                "{code:?}"
            );
            assert_eq!(
                decide(Kind::Write, &err(code), false, 1, 5, 0.5),
                Decision::Fail,
                "{code:?}"
            );
        }
    }

    #[test]
    fn retry_after_is_honoured() {
        let e = err(Code::RateLimited).with_retry_after(Some(4000.0));
        assert_eq!(
            decide(Kind::Write, &e, false, 1, 2, 0.0),
            Decision::RetryAfter(4000.0)
        );
    }
}
