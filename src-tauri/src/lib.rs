//! The Outpost desktop app: a thin Tauri shell and a headless CLI over
//! `outpost-core`'s [`Outpost`](outpost_core::Outpost) facade. Nothing here
//! decides anything about customers or the outbox; it parses, delegates and
//! presents.

pub mod app;
pub mod cli;
mod commands;
pub mod error;
mod events;
mod single_instance;
mod start_error;
/// The build script's check, compiled here too so its tests run with the lib's.
#[cfg(test)]
#[path = "../ui_dist.rs"]
mod ui_dist;
mod webview;
