//! A minimal set of futures run concurrently on the caller's task: `next()` resolves with the
//! first one to finish. Every wake-up polls all of them, which is cheap for the handful the
//! engine runs at once, and keeps the .wasm far smaller than a general-purpose executor.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

pub struct JoinSet<'a, T> {
    futures: Vec<Pin<Box<dyn Future<Output = T> + 'a>>>,
}

impl<'a, T> JoinSet<'a, T> {
    pub fn new() -> Self {
        JoinSet {
            futures: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.futures.len()
    }

    pub fn is_empty(&self) -> bool {
        self.futures.is_empty()
    }

    pub fn push(&mut self, f: impl Future<Output = T> + 'a) {
        self.futures.push(Box::pin(f));
    }

    /// The output of the first future to finish, or `None` when the set is empty.
    pub async fn next(&mut self) -> Option<T> {
        if self.futures.is_empty() {
            return None;
        }
        std::future::poll_fn(|cx: &mut Context<'_>| {
            for i in 0..self.futures.len() {
                if let Some(f) = self.futures.get_mut(i) {
                    if let Poll::Ready(out) = f.as_mut().poll(cx) {
                        drop(self.futures.swap_remove(i));
                        return Poll::Ready(Some(out));
                    }
                }
            }
            Poll::Pending
        })
        .await
    }
}

impl<T> Default for JoinSet<'_, T> {
    fn default() -> Self {
        Self::new()
    }
}

/// Runs `futures` with at most `limit` in flight; outputs in input order.
pub async fn run_limited<'a, T: 'a, F>(futures: impl IntoIterator<Item = F>, limit: usize) -> Vec<T>
where
    F: Future<Output = T> + 'a,
{
    let mut pending = futures.into_iter().enumerate();
    let mut set = JoinSet::new();
    let mut out: Vec<(usize, T)> = Vec::new();
    loop {
        while set.len() < limit.max(1) {
            let Some((i, f)) = pending.next() else { break };
            set.push(async move { (i, f.await) });
        }
        match set.next().await {
            Some(done) => out.push(done),
            None => break,
        }
    }
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, t)| t).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_executor::block_on;
    use std::cell::Cell;

    /// A future that is pending `n` times (waking itself) before it finishes.
    struct After<'c>(u32, u32, &'c Cell<u32>);

    impl Future for After<'_> {
        type Output = u32;
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
            if self.0 == 0 {
                return Poll::Ready(self.1);
            }
            self.0 -= 1;
            self.2.set(self.2.get() + 1);
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }

    #[test]
    fn the_first_to_finish_comes_first() {
        let polls = Cell::new(0);
        let mut set = JoinSet::new();
        set.push(After(6, 30, &polls));
        set.push(After(1, 10, &polls));
        set.push(After(3, 20, &polls));
        let order: Vec<u32> = block_on(async {
            let mut v = Vec::new();
            while let Some(x) = set.next().await {
                v.push(x);
            }
            v
        });
        assert_eq!(order, vec![10, 20, 30]);
    }

    #[test]
    fn run_limited_keeps_input_order_and_the_limit() {
        let polls = Cell::new(0);
        let in_flight = Cell::new(0u32);
        let peak = Cell::new(0u32);
        let futs = (0..10u32).map(|i| {
            let (polls, in_flight, peak) = (&polls, &in_flight, &peak);
            async move {
                in_flight.set(in_flight.get() + 1);
                peak.set(peak.get().max(in_flight.get()));
                let v = After(10 - i, i, polls).await;
                in_flight.set(in_flight.get() - 1);
                v
            }
        });
        let out = block_on(run_limited(futs, 3));
        assert_eq!(out, (0..10).collect::<Vec<_>>());
        assert_eq!(peak.get(), 3);
    }
}
