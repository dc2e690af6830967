//! What the targets that drive the engine share: a host with a clock the driver moves, and a
//! driver that answers each request a task starts (the sans-IO protocol the wasm edge's JS
//! driver speaks).
// Each target uses part of it.
#![allow(dead_code)]

use std::cell::{Cell, RefCell};
use vox_crm::core::api::HttpResponse;
use vox_crm::core::bulk::{Outcome, Progress};
use vox_crm::core::engine::{Client, Host, LogEvent, Outgoing, Step, Task, TransportError};
use vox_crm::core::error::VoxError;
use vox_crm::core::testkit::Tv;
use vox_crm::core::value::{Part, Parts, Value};

pub const START_MS: f64 = 1_000_000.0;
/// The wall clock when an answer arrives (10 ms after the start): 2026-12-01T00:00:00Z.
pub const WALL_MS: f64 = 1_796_083_200_000.0;

/// The host of one call: a fake clock, and what the task reported.
pub struct FuzzHost {
    pub now: Cell<f64>,
    pub logs: RefCell<Vec<LogEvent>>,
    pub progress: RefCell<Vec<Progress>>,
    pub outcomes: RefCell<Vec<(usize, Outcome<Tv>)>>,
    /// `aborted()` is true from this many requests on.
    pub abort_after: Cell<Option<usize>>,
    pub requests: Cell<usize>,
}

impl Default for FuzzHost {
    fn default() -> Self {
        FuzzHost {
            now: Cell::new(START_MS),
            logs: RefCell::default(),
            progress: RefCell::default(),
            outcomes: RefCell::default(),
            abort_after: Cell::new(None),
            requests: Cell::new(0),
        }
    }
}

impl Host for FuzzHost {
    type V = Tv;

    fn wall_ms(&self) -> f64 {
        WALL_MS + self.now.get() - START_MS - 10.0
    }

    fn now_ms(&self) -> f64 {
        self.now.get()
    }

    fn random(&self) -> f64 {
        0.5
    }

    fn aborted(&self) -> bool {
        self.abort_after
            .get()
            .is_some_and(|n| self.requests.get() >= n)
    }

    fn log(&self, event: &LogEvent) {
        self.logs.borrow_mut().push(event.clone());
    }

    fn progress(&self, p: Progress) {
        self.progress.borrow_mut().push(p);
    }

    fn outcome(&self, index: usize, outcome: Outcome<Tv>) {
        self.outcomes.borrow_mut().push((index, outcome));
    }
}

/// The text of a request body, the host's parts as they were written.
pub fn parts_text(parts: &Parts<Tv>) -> String {
    parts
        .0
        .iter()
        .map(|p| match p {
            Part::Str(s) => s.clone(),
            Part::Text(v) => v.string().expect("a host part that is no string"),
        })
        .collect()
}

pub type Answer = Result<HttpResponse<Tv>, TransportError>;

/// Drives `task` to its end: `answer` is asked for the result of each request it started, in
/// the order started, with all the requests in flight (it may hold a result back: `None`
/// delivers nothing yet, and it is asked again after the next step; when nothing else can
/// happen, `late` answers the oldest held request); when the task only waits, the clock jumps
/// to its wake time. Panics after `max_steps` steps.
pub fn drive(
    client: &Client,
    host: &FuzzHost,
    mut task: Task<Tv>,
    max_steps: usize,
    mut answer: impl FnMut(&FuzzHost, &Outgoing<Tv>, &[Outgoing<Tv>]) -> Option<Answer>,
    mut late: impl FnMut(&FuzzHost, &Outgoing<Tv>) -> Answer,
) -> Result<Tv, VoxError> {
    let mut held: Vec<Outgoing<Tv>> = Vec::new();
    for _ in 0..max_steps {
        match task.step(client, host) {
            Step::Done(r) => {
                assert!(
                    held.is_empty(),
                    "a task ended with {} requests in flight",
                    held.len()
                );
                return r;
            }
            Step::Pending { wake } => {
                let sends = task.take_sends();
                for s in &sends {
                    assert!(
                        held.iter().all(|h| h.id != s.id),
                        "request id {} started twice",
                        s.id
                    );
                }
                host.requests.set(host.requests.get() + sends.len());
                held.extend(sends);
                let mut delivered = false;
                let mut k = 0;
                while k < held.len() {
                    match answer(host, &held[k], &held) {
                        Some(r) => {
                            let s = held.remove(k);
                            task.deliver(s.id, r);
                            delivered = true;
                        }
                        None => k += 1,
                    }
                }
                if delivered {
                    continue;
                }
                if let Some(s) = (!held.is_empty()).then(|| held.remove(0)) {
                    // Nothing else to do: the oldest held request ends now.
                    let r = late(host, &s);
                    task.deliver(s.id, r);
                    continue;
                }
                let wake = wake.expect("a task waits for nothing");
                assert!(wake.is_finite(), "wake at {wake}");
                host.now.set(host.now.get().max(wake));
            }
        }
    }
    panic!("the task did not end within {max_steps} steps");
}
