//! HTTP and GraphQL integration tests through the real router, on the store that
//! `SCAFFOLD_TEST_STORE` selects (`scripts/test` runs them on SQLite and PostgreSQL).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers

mod attestations;
mod authz;
mod binary;
mod cache;
mod calendar;
mod common;
mod contracts;
mod credentials;
mod errors;
mod events;
mod federation;
mod graphql;
mod groups;
mod identity;
mod members;
mod notices;
mod oauth;
mod openactive;
mod ops;
mod oruk;
mod pages;
mod replicas;
mod robustness;
mod search;
mod series;
mod sources;
mod verify;
mod webhooks;
