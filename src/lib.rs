//! vox-crm: a client for the Vox CRM lead API.
//!
//! `core` is plain Rust (no JS), tested natively; `wasm` is the thin wasm-bindgen edge.
pub mod core;
#[cfg(target_arch = "wasm32")]
pub mod wasm;
