//! The pure core: every API rule, with no JavaScript anywhere below here.
pub mod api;
pub mod bulk;
pub mod bulk_task;
pub mod checks;
pub mod engine;
#[cfg(test)]
mod engine_tests;
pub mod error;
pub(crate) mod exists;
pub mod hash;
pub mod lead;
pub mod limits;
pub mod options;
/// Phone numbers: the `vox-phone` crate of this workspace (`phone/`).
pub use vox_phone as phone;
pub mod retry;
pub mod store;
/// The native tests' host value (`Tv`), also for the fuzz targets (feature `testkit`).
#[cfg(any(test, feature = "testkit"))]
#[doc(hidden)]
pub mod testkit;
pub mod value;
pub mod webhook;
