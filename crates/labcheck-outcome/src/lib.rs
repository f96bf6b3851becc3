//! What a check of labcheck returns and what its run's checks share: the
//! verdict (`outcome.rs`: [`outcome::Status`], [`outcome::Basis`],
//! [`outcome::Outcome`] and [`outcome::CheckError`], why a check could not
//! decide) and the memo of answers read once per run (`memo.rs`). The AWS
//! checks of labcheck and the project checks of labcheck-django both speak
//! it; it knows no AWS crate, so an AWS error reaches it as a
//! [`outcome::ServiceFault`] labcheck implements.

pub mod memo;
pub mod outcome;
