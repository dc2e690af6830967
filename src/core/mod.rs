//! The pure core: every API rule, with no JavaScript anywhere below here.
pub mod api;
pub mod bulk;
pub mod engine;
#[cfg(test)]
mod engine_tests;
pub mod error;
pub mod join;
pub mod lead;
pub mod limits;
pub mod phone;
pub mod retry;
#[cfg(test)]
mod testkit;
pub mod webhook;
