//! Errors of starting and driving an emulator (API errors live with each API).

use std::io;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot bind {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: io::Error,
    },
    #[error("state file: {0}")]
    State(#[from] sqlx::Error),
    #[error("state file holds an unreadable {kind} row {id}: {source}")]
    CorruptRow {
        kind: String,
        id: String,
        source: serde_json::Error,
    },
}
