//! labcheck's integration tests: one binary (one link), a module per area.
//! Tests that use the sandbox take a turn at it (`common::SandboxTurn`), so
//! they run side by side under `cargo test` and `cargo nextest run` alike.

mod common;

mod architecture;
mod book;
mod book_serve;
mod cache_step;
mod cli;
mod cohort;
mod cohort_trust;
mod course;
mod desk;
mod eb_step;
mod hardening;
mod hostile;
mod learner_loop;
mod packaging;
mod probe_cache;
mod project_step;
mod quiz;
mod quiz_stats;
mod rds_step;
mod reach;
mod read_only;
mod s3_step;
mod scenarios;
mod tls;
