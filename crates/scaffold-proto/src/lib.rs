//! The wire contract of change events (`proto/scaffold/changes/v1`), compiled in the build. The
//! webhook payloads are built from these messages and serialised with the protobuf canonical JSON
//! mapping, so what is sent cannot drift from the contract. Nothing here knows the domain: the
//! service maps its changes onto these messages.

#![allow(clippy::all, missing_debug_implementations)] // generated code

pub mod changes {
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/scaffold.changes.v1.rs"));
        include!(concat!(env!("OUT_DIR"), "/scaffold.changes.v1.serde.rs"));
    }
}

/// The compiled descriptor set of `proto/` (for compatibility checks).
pub const DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/descriptor.bin"));

mod timestamp;
pub use timestamp::Timestamp;
