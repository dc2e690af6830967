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
/// Phone numbers: the `vox-phone` crate of this workspace (`phone/`).
pub use vox_phone as phone;
pub mod retry;
#[cfg(test)]
mod testkit;
pub mod webhook;
